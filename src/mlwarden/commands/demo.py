"""``mlwarden demo``: the service end to end on the embedded SQLite store, in a few seconds.

Registers a churn model with its owner, starts the API in-process with token auth, streams six simulated
past hours of traffic through the SDK (healthy, drifted, then a broken feature pipeline), waits for the
windows to be evaluated and prints what the service found: per-hour drift and performance, open alerts with
whom to page, /metrics gauges, and an HTML report of the worst hour.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

NEXT = (
    "alert routing to the owner's notifiers (webhook, Slack, email)",
    "retrain triggers, shadow traffic and the ledger (the gate is built: mlwarden retrain evaluate)",
)


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the store, the data and the report.")
    ] = Path("demo-output"),
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="SQLite path or postgresql+psycopg:// URL [default: a fresh OUTPUT/mlwarden.db]."
        ),
    ] = None,
    rows: Annotated[int, typer.Option(min=500, help="Rows of traffic per simulated hour.")] = 3_000,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve", help="Keep the server running afterwards, with the dashboard; Ctrl-C stops it."
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="With --serve: the interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --serve: the port to listen on.")] = 8000,
) -> None:
    """Run the service end to end: registry, SDK ingestion, windows, findings, alerts, metrics, report;
    with --serve, keep serving the API and the dashboard on the demo's store."""
    # API, evaluator and client share this process: OpenMP threads in the evaluator's small model fits
    # only add contention (on a busy 2-core machine they made a window's evaluation 100x slower).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from rich.console import Console

    from mlwarden.demo import show
    from mlwarden.demo.run import run
    from mlwarden.demo.scenario import simulate
    from mlwarden.store import Store

    started = time.perf_counter()
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, 140)
    output.mkdir(parents=True, exist_ok=True)
    console.rule("[bold]mlwarden demo[/] — a churn model in production, end to end")
    store = Store(db or _fresh_sqlite(output / "mlwarden.db"))
    console.print(f"store: {store.url}")
    scenario = simulate(rows)
    try:
        seen = run(store, scenario, output / "spool", console)
    finally:
        store.dispose()

    console.print()
    console.print(show.hour_table(scenario.hours, seen.windows, seen.findings, seen.model["slos"]["roc_auc"]))
    console.print()
    console.print(show.alert_table(seen.alerts))
    owner = seen.model["owner"]
    if any(a["severity"] == "critical" for a in seen.alerts):
        console.print(
            f"[bold red]page[/] {owner['name']} <{owner['email']}> via {seen.model['oncall']} — "
            f"runbook {seen.model['runbook_url']}"
        )
    console.print("\n[bold]/metrics[/] (Prometheus; highest drift scores and open alerts):")
    for line in show.metric_lines(seen.metrics):
        console.print(f"  {line}", markup=False)
    _write_report(console, output, scenario.reference, show.worst_hour(scenario.hours, seen.findings))
    console.print(f"\n[bold]next[/] (not in this build yet): {'; '.join(NEXT)}.")
    console.print(f"done in {time.perf_counter() - started:.1f} s")
    if serve:
        _serve(console, Store(db or output / "mlwarden.db"), host, port)
    else:
        console.print("see it in the dashboard: mlwarden demo --serve (then open the URL it prints)")


def _serve(console, store, host: str, port: int) -> None:
    """Serve the API and the dashboard on the demo's store until interrupted; print the URL and a token."""
    import uvicorn

    from mlwarden.registry import create_token
    from mlwarden.server import create_app

    # admin: the demo's user may acknowledge and silence alerts from the inbox
    token = create_token(store, team="growth", name="dashboard", scopes=["admin"])
    url = f"http://{host}:{port}"
    console.print(
        f"\n[bold]dashboard[/] {url}/login — log in with this admin token of team growth:\n  {token}\n"
        f"  the model page: {url}/models/churn · the alerts inbox: {url}/alerts · Ctrl-C stops the server",
        soft_wrap=True,
    )
    app = create_app(store, auth=True, evaluate_every=10.0)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        store.dispose()


def _fresh_sqlite(path: Path) -> Path:
    """``path`` with any earlier demo store (and its WAL files) removed, so every run starts clean."""
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    return path


def _write_report(console, output: Path, reference, worst) -> None:
    """Compare the worst hour's rows with the reference (``mlwarden check``'s path) and write the reports."""
    from mlwarden.comparison import compare
    from mlwarden.demo.data import ID, PREDICTION, SCORE, TARGET

    current = worst.frame if worst.labelled else worst.frame.drop(columns=TARGET)
    ref_path, cur_path = output / "reference.parquet", output / f"hour-{worst.number}.parquet"
    reference.drop(columns=ID).to_parquet(ref_path)
    current.drop(columns=ID).to_parquet(cur_path)
    report = compare(ref_path, cur_path, target=TARGET, prediction=PREDICTION, score=SCORE)
    html = report.to_html(output / "report.html")
    (output / "report.json").write_text(report.to_json() + "\n", encoding="utf-8")
    critical = [f for f in report.findings if f.severity == "critical"]
    console.print(
        f"\n[bold]report[/] of the worst hour ({worst.label}, {worst.phase}) against the reference: "
        f"{len(report.drift.drifted_columns)} drifted columns, {len(critical)} critical findings"
    )
    for finding in critical:
        console.print(f"  [bold red]critical[/] {finding.check}: {finding.message}")
    console.print(
        f"wrote {html} and {output / 'report.json'}\n  same as: mlwarden check {ref_path} {cur_path} "
        f"--target {TARGET} --prediction {PREDICTION} --score {SCORE} --format html"
    )
