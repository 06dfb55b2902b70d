"""The demo's service session: token, in-process API, registry, reference, SDK traffic, and what came back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from mlwarden.demo import service
from mlwarden.demo.data import BROKEN_FEATURE
from mlwarden.demo.scenario import Scenario
from mlwarden.store import Store

INDENT = " " * 13


@dataclass(frozen=True, slots=True)
class Observed:
    """What the API answered once every window was evaluated."""

    model: dict[str, Any]
    windows: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    metrics: str


def run(store: Store, scenario: Scenario, spool_dir: Path, console: Console) -> Observed:
    """Start the API on ``store`` with token auth and a 0.5 s window scheduler, play ``scenario`` through
    it, narrating each step on ``console``, and read back windows, findings, alerts and /metrics."""
    import httpx

    from mlwarden.registry import create_token
    from mlwarden.server.background import BackgroundServer

    token = create_token(store, team="growth", name="demo", scopes=["admin"])
    shown = f"{token[:12]}…"
    console.print(f"token for team growth (admin scope): {shown} — only its SHA-256 is stored\n")
    headers = {"Authorization": f"Bearer {token}"}
    with (
        BackgroundServer(store, auth=True, evaluate_every=0.5) as server,
        httpx.Client(base_url=server.url, headers=headers, timeout=60) as api,
    ):
        console.print(f"[bold]1. API[/]       {server.url} (bearer-token auth, window scheduler every 0.5 s)")
        model = service.register(api, scenario.offline_metrics)
        console.print(
            f"[bold]2. registry[/]  model [bold]{model['name']}[/] of team {model['team']}: owner "
            f"{model['owner']['name']} <{model['owner']['email']}>, on-call {model['oncall']}, runbook "
            f"{model['runbook_url']}, SLO roc_auc ≥ {model['slos']['roc_auc']}, hourly windows, no grace"
        )
        offline = ", ".join(f"{k} {v:.3f}" for k, v in scenario.offline_metrics.items())
        console.print(f"{INDENT}version {service.VERSION} registered as champion (offline {offline})")
        ref = service.upload_reference(api, scenario.reference)
        console.print(
            f"[bold]3. reference[/] {ref['rows']:,} rows profiled; {ref['labelled_rows']:,} labelled outputs "
            "kept to estimate performance before labels arrive"
        )
        hours = scenario.hours
        console.print(
            f"[bold]4. traffic[/]   Warden({server.url!r}, token={shown!r}) logs {len(hours)} past hours × "
            f"{len(hours[0].frame):,} rows:\n{INDENT}" + ", ".join(f"{h.label} {h.phase}" for h in hours)
        )
        labelled = [h for h in hours if h.labelled]
        console.print(
            f"{INDENT}the broken pipeline sends {BROKEN_FEATURE} = 0; delayed churn outcomes (log_labels) "
            f"are in for {labelled[0].label[:5]}–{labelled[-1].label[-5:]}, not yet for the last hour"
        )
        sent = service.stream(server.url, token, hours, spool_dir)
        console.print(f"{INDENT}{sent.sent:,} rows acknowledged in {sent.batches_sent} batches, none dropped")
        windows = service.wait_until_evaluated(api, hours)
        return Observed(
            model=model,
            windows=windows,
            findings=service.findings(api),
            alerts=service.alerts(api),
            metrics=service.metrics(api),
        )
