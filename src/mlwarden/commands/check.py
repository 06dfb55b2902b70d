"""``mlwarden check`` and ``mlwarden profile``."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from mlwarden.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from mlwarden.report import Report


class Format(StrEnum):
    text = "text"
    json = "json"
    html = "html"


def register(app: typer.Typer) -> None:
    app.command()(check)
    app.command("profile")(profile_command)


def check(
    reference: Annotated[Path, typer.Argument(help="Reference data: CSV, Parquet or a saved profile.")],
    current: Annotated[Path, typer.Argument(help="Current data: CSV, Parquet or a saved profile.")],
    target: Annotated[str | None, typer.Option(help="Label column (realized performance).")] = None,
    prediction: Annotated[str | None, typer.Option(help="Predicted-label column (output sanity).")] = None,
    score: Annotated[list[str] | None, typer.Option(help="Score column; repeat for one per class.")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    contract: Annotated[
        Path | None, typer.Option(help="Also validate CURRENT's rows against this contract (YAML).")
    ] = None,
) -> None:
    """Compare CURRENT with REFERENCE: drift, data quality, output sanity and performance.

    Exit code 0 when nothing is critical, 1 on critical findings, 2 on bad input.
    """
    from mlwarden.comparison import compare
    from mlwarden.findings import sort_findings
    from mlwarden.quality import Contract, read_batch

    for path in (reference, current):
        if not path.exists():
            raise InputError(f"{path}: no such file")
    rules = Contract.from_yaml(contract) if contract else None  # a bad contract fails before profiling
    with _progress("profiling") as step:
        report = compare(
            reference, current, target=target, prediction=prediction, score=score, on_progress=step
        )
    if rules is not None:
        report.findings = sort_findings(report.findings + rules.validate(read_batch(current)))
    if format is Format.json:
        text = report.to_json()
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            typer.echo(text)
    elif format is Format.html:
        path = report.to_html(output or Path("report.html"))
        typer.echo(f"wrote {path}")
    else:
        print_report(report)
        if output:
            output.write_text(report.to_json() + "\n", encoding="utf-8")
    raise typer.Exit(report.exit_code)


def profile_command(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file to profile.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the profile.")],
    sketch: Annotated[
        bool, typer.Option(help="Add KLL quantile sketches (for merging differently binned profiles).")
    ] = False,
) -> None:
    """Save a mergeable profile of DATA; `mlwarden check` accepts it in place of the data."""
    from mlwarden.profile import profile

    with _progress("profiling") as step:
        result = profile(data, sketch=sketch, on_column=step)
    result.save(output)
    typer.echo(f"wrote {output} ({result.rows:,} rows, {len(result.columns)} columns)")


def print_report(report: Report, console: Console | None = None) -> None:
    """A terminal summary: drift per column (drifted first), then findings."""
    from rich.table import Table

    console = console or Console()
    console.print(report.summary())
    table = Table(title="drift", title_justify="left")
    for name in ("column", "kind", "method", "score", "threshold", "p-value", "verdict"):
        table.add_column(name, justify="right" if name in ("score", "threshold", "p-value") else "left")
    for c in sorted(report.drift.columns, key=lambda c: (not c.drifted, c.score is None, -(c.score or 0))):
        verdict = "[bold red]drifted[/]" if c.drifted else ("[dim]not tested[/]" if c.score is None else "ok")
        table.add_row(c.column, c.kind, c.method, _num(c.score), _num(c.threshold), _num(c.p_value), verdict)
    console.print(table)
    mv = report.drift.multivariate
    if mv is not None and mv.score is not None:
        console.print(
            f"multivariate: domain-classifier ROC AUC {mv.score:.3f} (threshold {mv.threshold}) → "
            + ("[bold red]drifted[/]" if mv.drifted else "ok")
        )
    colors = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
    for f in report.findings:
        console.print(
            f"[{colors[f.severity.value]}]{f.severity.value:>8}[/] {f.check:<26} {f.message}",
            markup=True,
            highlight=False,
        )
    for note in report.notes:
        console.print(f"[dim]note: {note}[/]")


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


@contextmanager
def _progress(label: str) -> Iterator[Callable[[str], None]]:
    """A progress line on stderr while columns are profiled (silent when stderr is not a terminal)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal or not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task(label)
        yield lambda column: bar.update(task, description=f"{label}: {column}")
