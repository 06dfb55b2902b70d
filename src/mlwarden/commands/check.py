"""``mlwarden check`` and ``mlwarden profile``."""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlwarden.commands.segment_report import print_segments
from mlwarden.errors import InputError

PIPED_WIDTH = 240  # columns of text output when stdout is not a terminal (CI logs are not cut at 80)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from mlwarden.drift import ColumnDrift
    from mlwarden.report import Report
    from mlwarden.schema.mapping import Label


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
    target: Annotated[str | None, typer.Option(help="Label column (performance, target drift).")] = None,
    prediction: Annotated[str | None, typer.Option(help="Predicted-label column.")] = None,
    score: Annotated[
        list[str] | None,
        typer.Option(help="Score column (binary), or CLASS=COLUMN once per class (multiclass, model order)."),
    ] = None,
    positive_label: Annotated[str | None, typer.Option(help="Positive class of a binary model.")] = None,
    id: Annotated[str | None, typer.Option("--id", help="Row-id column (never drift-tested).")] = None,
    ignore: Annotated[
        list[str] | None, typer.Option(help="Column to leave out entirely; repeatable.")
    ] = None,
    categorical: Annotated[list[str] | None, typer.Option(help="Treat as categorical; repeatable.")] = None,
    numeric: Annotated[list[str] | None, typer.Option(help="Treat as numeric; repeatable.")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Model configuration YAML (columns, drift, slo).")
    ] = None,
    slo: Annotated[
        list[str] | None, typer.Option(help="Objective, e.g. roc_auc>=0.78 or mae<=3; repeatable.")
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    contract: Annotated[
        Path | None, typer.Option(help="Also validate CURRENT's rows against this contract (YAML).")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")] = False,
    chunk_by: Annotated[
        str | None, typer.Option(help="Judge CURRENT in chunks: the timestamp (or ordering) column.")
    ] = None,
    period: Annotated[str | None, typer.Option(help="Chunk length in time: 1d, 6h, 1w, 1m (month)…")] = None,
    chunk_size: Annotated[int | None, typer.Option(help="Chunk length in rows.")] = None,
    segment: Annotated[
        list[str] | None,
        typer.Option(help="Also check per value of this column (COLUMN,COLUMN crosses two); repeatable."),
    ] = None,
) -> None:
    """Compare CURRENT with REFERENCE: drift, data quality, output sanity and performance.

    Flags override the --config file.

    Exit codes: 0 nothing critical, 1 critical findings (or an empty CURRENT), 2 bad input, 3 internal error.
    """
    from mlwarden.commands.segment_report import segment_options
    from mlwarden.comparison import compare
    from mlwarden.findings import sort_findings
    from mlwarden.quality import Contract, read_batch
    from mlwarden.schema.config import ModelConfig, parse_slo

    if debug:
        from mlwarden.cli import DEBUG_ENV

        os.environ[DEBUG_ENV] = "1"
    for path in (reference, current):
        if not path.exists():
            raise InputError(f"{path}: no such file")
    model = ModelConfig.from_yaml(config) if config else ModelConfig()
    mapping = model.mapping.merged(
        target=target,
        prediction=prediction,
        scores=score_option(score or []),
        positive_label=None if positive_label is None else parse_label(positive_label),
        id=id,
        ignore=ignore,
        categorical=categorical,
        numeric=numeric,
        segments=segment_options(segment or []),
    )
    limits = {**model.slo_limits(), **dict(parse_slo(s) for s in slo or [])}
    rules = Contract.from_yaml(contract) if contract else None  # a bad contract fails before profiling
    if chunk_by is not None or period is not None or chunk_size is not None:
        from mlwarden.commands.chunks import check_chunked

        if rules is not None:
            raise InputError("--contract: not available with chunks (--chunk-by, --period, --chunk-size)")
        chunking = {"chunk_by": chunk_by, "period": period, "chunk_size": chunk_size}
        slos = (limits, model.segment_slo_limits())
        raise typer.Exit(check_chunked(reference, current, mapping, slos, chunking, format, output))
    with _progress("profiling") as step:
        report = compare(
            reference,
            current,
            mapping=mapping,
            slo=limits,
            on_progress=step,
            segment_slo=model.segment_slo_limits(),
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


def score_option(values: list[str]) -> str | list[str] | dict[Label, str] | None:
    """``--score`` values as a mapping's ``scores``: one column, columns in sorted class order, or (all of the
    form ``CLASS=COLUMN``) a ``{class: column}`` map in the given order."""
    if not values:
        return None
    pairs = ["=" in v for v in values]
    if any(pairs) and not all(pairs):
        raise InputError("--score: give either column names or CLASS=COLUMN pairs, not both")
    if not any(pairs):
        return values[0] if len(values) == 1 else values
    out: dict[Label, str] = {}
    for value in values:
        name, _, column = value.partition("=")
        if not name or not column:
            raise InputError(f"--score {value!r}: expected CLASS=COLUMN")
        key = parse_label(name)
        if key in out:
            raise InputError(f"--score: class {name!r} given twice")
        out[key] = column
    return out


def parse_label(text: str) -> Label:
    """A class label typed on the command line: an integer when it is written as one, else the text."""
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else text


def profile_command(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file to profile.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the profile.")],
    sketch: Annotated[
        bool, typer.Option(help="Add KLL quantile sketches (merging does not need them).")
    ] = False,
    segment: Annotated[
        list[str] | None,
        typer.Option(help="Also keep a profile per value of this column (COLUMN,COLUMN crosses two)."),
    ] = None,
) -> None:
    """Save a mergeable profile of DATA; `mlwarden check` accepts it in place of the data."""
    from mlwarden.commands.segment_report import segment_options
    from mlwarden.profile import profile

    with _progress("profiling") as step:
        result = profile(data, sketch=sketch, on_column=step, segments=segment_options(segment or []))
    result.save(output)
    typer.echo(f"wrote {output} ({result.rows:,} rows, {len(result.columns)} columns)")


def print_report(report: Report, console: Console | None = None) -> None:
    """The text report: summary, feature / target / output drift tables, performance, findings, notes."""
    console = console or text_console()
    console.print(report.summary())
    for title, entries in (
        ("feature drift", report.drift.features),
        ("target drift", report.drift.target),
        ("prediction and score drift", report.drift.outputs),
    ):
        if entries:
            console.print(_drift_table(title, entries))
    mv = report.drift.multivariate
    if mv is not None and mv.score is not None:
        console.print(
            f"multivariate (features): domain-classifier ROC AUC {mv.score:.3f} (threshold {mv.threshold}) → "
            + ("[bold red]drifted[/]" if mv.drifted else "ok")
        )
    if report.performance_names()[0]:  # some metric, not only row counts
        console.print(_performance_table(report))
    colors = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
    for f in (f for f in report.findings if f.segment is None):  # segments' findings: their own section
        console.print(
            f"[{colors[f.severity.value]}]{f.severity.value:>8}[/] {f.check:<26} {escape(f.message)}",
            markup=True,
            highlight=False,
        )
    print_segments(report, console)
    for note in report.notes:
        console.print(f"[dim]note: {escape(note)}[/]")


def text_console() -> Console:
    """Standard output: the terminal's width on a terminal; wide and never wrapped when piped (CI logs)."""
    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=PIPED_WIDTH, soft_wrap=True)


def _drift_table(title: str, entries: list[ColumnDrift]) -> Table:
    from mlwarden.report.report import verdict

    notes = any(c.note for c in entries)
    table = Table(title=title, title_justify="left")
    for name in ("column", "kind", "method", "score", "threshold", "p-value", "verdict", "note")[: 7 + notes]:
        table.add_column(name, justify="right" if name in ("score", "threshold", "p-value") else "left")
    for c in sorted(entries, key=lambda c: (not c.drifted, c.score is None, -(c.score or 0))):
        shown = verdict(c)
        shown = {"drifted": "[bold red]drifted[/]", "not tested": "[dim]not tested[/]"}.get(shown, shown)
        cells = [escape(c.column), c.kind, c.method, _num(c.score), _num(c.threshold), _num(c.p_value), shown]
        table.add_row(*cells, *([escape(c.note or "")] if notes else []))
    return table


def _performance_table(report: Report) -> Table:
    """One row per metric: the estimate and the realized value, each with its 95 % band when known; then
    the row counts."""
    from mlwarden.report.report import COUNT_LABELS

    table = Table(title="performance", title_justify="left")
    for name in ("metric", "estimated (no labels)", "realized (labels)"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    estimated, realized = report.performance.get("estimated", {}), report.performance.get("realized", {})
    metrics, counts = report.performance_names()
    for name in metrics:
        table.add_row(name, _banded(estimated, name), _banded(realized, name))
    for name in counts:
        shown = [f"{int(m[name]):,}" if m.get(name) is not None else "–" for m in (estimated, realized)]
        table.add_row(COUNT_LABELS.get(name, name), *shown)
    return table


def _banded(metrics: dict[str, float | None], name: str) -> str:
    value, lower, upper = (metrics.get(k) for k in (name, f"{name}_lower", f"{name}_upper"))
    if value is None:
        return "–"
    band = f" [{lower:.3f}, {upper:.3f}]" if lower is not None and upper is not None else ""
    return f"{value:.3f}{band}"


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
