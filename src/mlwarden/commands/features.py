"""``mlwarden skew`` (training/serving skew) and ``mlwarden leakage`` (leakage in a training table)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from mlwarden.errors import InputError

if TYPE_CHECKING:
    from mlwarden.findings import Finding


class Format(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("skew")(skew_command)
    app.command("leakage")(leakage_command)


def skew_command(
    offline: Annotated[
        Path, typer.Argument(help="Training-side features: CSV or Parquet (or a saved profile).")
    ],
    online: Annotated[
        Path, typer.Argument(help="Serving-side features: CSV or Parquet (or a saved profile).")
    ],
    key: Annotated[
        list[str] | None,
        typer.Option("--key", help="Join column (repeat for a composite key): record-level skew."),
    ] = None,
    time: Annotated[
        str | None, typer.Option("--time", help="Timestamp column joined on as well as the key.")
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
) -> None:
    """Training/serving skew between OFFLINE and ONLINE features.

    With --key: the same keys' values compared feature by feature (record-level skew). Without: the
    distributions compared with thresholds half of drift's. Exit code 0 when nothing is critical, 1 on
    critical findings, 2 on bad input.
    """
    from mlwarden.comparison import load_data
    from mlwarden.features import record_skew, skew_result

    off_rows, off_profile, _ = load_data(offline, role="offline")
    on_rows, on_profile, _ = load_data(online, role="online")
    payload: dict[str, Any] = {"offline": {"source": str(offline)}, "online": {"source": str(online)}}
    if key:
        if off_rows is None or on_rows is None:
            raise InputError("record-level skew (--key) needs data files, not saved profiles")
        result = record_skew(off_rows, on_rows, key=key, time=time)
        findings = result.findings()
        payload |= {"mode": "record", **result.to_dict()}
    else:
        if time is not None:
            raise InputError("--time is a join column: it needs --key")
        drift, findings = skew_result(off_profile or off_rows, on_profile or on_rows)
        payload |= {"mode": "distribution", "columns": drift.to_dict()["columns"]}
        payload["findings"] = [f.to_dict() for f in findings]
    if format is Format.json:
        typer.echo(json.dumps(payload, indent=2, allow_nan=False))
    else:
        console = Console()
        if key:
            _print_record_table(console, payload)
        else:
            _print_distribution_table(console, payload["columns"])
        print_findings(console, findings)
    raise typer.Exit(exit_code(findings))


def leakage_command(
    data: Annotated[Path, typer.Argument(help="Training table: CSV or Parquet.")],
    target: Annotated[str, typer.Option("--target", help="Label column.")],
    time: Annotated[str | None, typer.Option("--time", help="Prediction/label time column.")] = None,
    split: Annotated[str | None, typer.Option("--split", help="Train/test split column.")] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="Entity id column.")] = None,
    feature_time: Annotated[
        list[str] | None,
        typer.Option(
            "--feature-time",
            help="Column holding when a feature was observed (repeat; default: all "
            "timestamp columns besides --time).",
        ),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
) -> None:
    """Target leakage, point-in-time violations, train/test contamination and identifiers in DATA.

    Exit code 0 when nothing is critical, 1 on critical findings, 2 on bad input.
    """
    from mlwarden.features import leakage_report
    from mlwarden.profile import read_table

    report = leakage_report(
        read_table(data),
        target=target,
        time=time,
        split=split,
        id_column=id_column,
        feature_time_columns=feature_time or None,
    )
    if format is Format.json:
        typer.echo(json.dumps({"source": str(data), **report.to_dict()}, indent=2, allow_nan=False))
    else:
        from rich.table import Table

        console = Console()
        if report.scores:
            table = Table(
                title=f"single-feature {report.metric} for '{target}' ({report.task})", title_justify="left"
            )
            table.add_column("feature")
            table.add_column(report.metric or "score", justify="right")
            for s in sorted(report.scores, key=lambda s: -(s.score if s.score is not None else -1e9)):
                table.add_row(s.column, "constant" if s.score is None else f"{s.score:.3f}")
            console.print(table)
        print_findings(console, report.findings)
    raise typer.Exit(exit_code(report.findings))


def exit_code(findings: list[Finding]) -> int:
    """1 when any finding is critical, else 0."""
    from mlwarden.findings import Severity, worst_severity

    return 1 if worst_severity(findings) is Severity.CRITICAL else 0


def print_findings(console: Console, findings: list[Finding]) -> None:
    from mlwarden.findings import sort_findings

    if not findings:
        console.print("[green]no findings[/]")
    colors = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
    for f in sort_findings(findings):
        console.print(
            f"[{colors[f.severity.value]}]{f.severity.value:>8}[/] {f.check:<24} {f.message}",
            markup=True,
            highlight=False,
        )


def _print_record_table(console: Console, payload: dict[str, Any]) -> None:
    from rich.table import Table

    console.print(
        f"joined on {', '.join(payload['key'])}: {payload['matched']:,} keys on both sides, "
        f"{payload['offline_only']:,} only offline, {payload['online_only']:,} only online"
    )
    table = Table(title="record-level skew", title_justify="left")
    for name in ("feature", "compared", "mismatches", "rate", "mean |diff|", "max |diff|"):
        table.add_column(name, justify="left" if name == "feature" else "right")
    for f in sorted(payload["features"], key=lambda f: -f["mismatch_rate"]):
        table.add_row(
            f["column"],
            f"{f['compared']:,}",
            f"{f['mismatches']:,}",
            f"{f['mismatch_rate']:.2%}",
            _num(f["mean_abs_diff"]),
            _num(f["max_abs_diff"]),
        )
    console.print(table)


def _print_distribution_table(console: Console, columns: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="distributional skew", title_justify="left")
    for name in ("column", "method", "score", "threshold", "verdict"):
        table.add_column(name, justify="right" if name in ("score", "threshold") else "left")
    for c in sorted(columns, key=lambda c: (not c["drifted"], -(c["score"] or 0))):
        verdict = (
            "[bold red]skewed[/]" if c["drifted"] else ("[dim]not tested[/]" if c["score"] is None else "ok")
        )
        table.add_row(c["column"], c["method"], _num(c["score"]), _num(c["threshold"]), verdict)
    console.print(table)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"
