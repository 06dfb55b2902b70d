"""What the demo prints: the service's answers as rich tables."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from rich.table import Table

from mlwarden.demo.data import PREDICTION, SCORE
from mlwarden.demo.scenario import Hour
from mlwarden.findings import Severity

STYLE = {"critical": "bold red", "warning": "yellow", "info": "dim"}
# Among findings of one severity, the one a person should read first: broken data, then missed SLOs, then
# output sanity, then drift (of features before the model's own outputs, biggest first).
FAMILIES = ("quality.", "contract.", "performance.realized", "performance.", "output.", "features.", "drift")
PHASE_STYLE = {"healthy": "green", "drifted": "yellow", "broken": "red"}
SHOWN_COLUMNS = 3  # drifted columns listed per hour before "+n more"


def urgency(finding: dict[str, Any]) -> tuple[int, int, bool, float]:
    """Sort key putting the finding to read first first (see FAMILIES)."""
    family = next(
        (i for i, prefix in enumerate(FAMILIES) if finding["check"].startswith(prefix)), len(FAMILIES)
    )
    value, threshold = finding["value"], finding["threshold"]
    ratio = (
        value / threshold
        if isinstance(value, float | int) and isinstance(threshold, float | int) and threshold
        else 0.0
    )
    return -Severity(finding["severity"]).rank, family, finding["column"] in (SCORE, PREDICTION), -ratio


def by_window(findings: list[dict[str, Any]]) -> dict[datetime, list[dict[str, Any]]]:
    """Findings per window start, the one to read first first."""
    out: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for finding in findings:
        if finding["window_start"]:
            out[datetime.fromisoformat(finding["window_start"])].append(finding)
    for items in out.values():
        items.sort(key=urgency)
    return out


def worst_hour(hours: list[Hour], findings: list[dict[str, Any]]) -> Hour:
    """The hour with the most critical findings (then the most warnings); the latest on a tie."""
    grouped = by_window(findings)

    def badness(hour: Hour) -> tuple[int, int, datetime]:
        severities = [f["severity"] for f in grouped.get(hour.start, [])]
        return severities.count("critical"), severities.count("warning"), hour.start

    return max(hours, key=badness)


def hour_table(
    hours: list[Hour], windows: list[dict[str, Any]], findings: list[dict[str, Any]], slo: float
) -> Table:
    """One row per window: rows, labels, drifted columns, estimated and realized ROC AUC (red below the
    ``slo``), finding counts and the finding to read first."""
    grouped = by_window(findings)
    table = Table(
        title="windows of model churn (GET /v1/models/churn/windows and …/findings)", title_justify="left"
    )
    for name, justify in (
        ("hour (UTC)", "left"),
        ("phase", "left"),
        ("rows", "right"),
        ("labels", "right"),
        ("drifted columns", "left"),
        ("AUC est.", "right"),
        ("AUC real", "right"),
        ("crit/warn", "right"),
        ("worst finding", "left"),
    ):
        table.add_column(name, justify=justify)
    for hour, window in zip(hours, windows, strict=True):
        summary = window["summary"]
        drifted = summary.get("drifted_columns") or []
        listed = ", ".join(drifted[:SHOWN_COLUMNS]) + (
            f" +{len(drifted) - SHOWN_COLUMNS}" if len(drifted) > SHOWN_COLUMNS else ""
        )
        performance = summary.get("performance") or {}
        worst = grouped.get(hour.start, [])
        severities = [f["severity"] for f in worst]
        table.add_row(
            hour.label,
            f"[{PHASE_STYLE[hour.phase]}]{hour.phase}[/]",
            f"{summary['rows']:,}",
            f"{summary.get('labelled', 0):,}",
            listed or "[green]none[/]",
            _auc((performance.get("estimated") or {}).get("roc_auc"), slo),
            _auc((performance.get("realized") or {}).get("roc_auc"), slo),
            f"{severities.count('critical')}/{severities.count('warning')}",
            _finding(worst[0]) if worst and worst[0]["severity"] != "info" else "[green]none[/]",
        )
    return table


def alert_table(alerts: list[dict[str, Any]]) -> Table:
    """Open alerts, worst first."""
    table = Table(title="open alerts (GET /v1/alerts)", title_justify="left")
    for name in ("severity", "check", "column", "seen", "message"):
        table.add_column(name, overflow="fold")
    for alert in sorted(alerts, key=lambda a: (-Severity(a["severity"]).rank, a["check"], a["column"] or "")):
        table.add_row(
            f"[{STYLE[alert['severity']]}]{alert['severity']}[/]",
            alert["check"],
            alert["column"] or "-",
            f"{alert['occurrences']}×",
            alert["message"],
        )
    return table


def metric_lines(text: str, top: int = 5) -> list[str]:
    """The ``top`` highest drift gauges and every open-alert gauge of a /metrics scrape."""
    drift = [line for line in text.splitlines() if line.startswith("mlwarden_drift_score{")]
    drift.sort(key=lambda line: -float(line.rsplit(" ", 1)[1]))
    alerts = [line for line in text.splitlines() if line.startswith("mlwarden_open_alerts{")]
    return drift[:top] + alerts


def _auc(value: float | None, slo: float) -> str:
    if value is None:
        return "-"
    return f"[bold red]{value:.3f}[/]" if value < slo else f"{value:.3f}"


def _finding(finding: dict[str, Any]) -> str:
    severity = finding["severity"]
    column = f" {finding['column']}" if finding["column"] else ""
    return f"[{STYLE[severity]}]{severity}[/] {finding['check']}{column}"
