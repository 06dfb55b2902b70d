"""``mlwarden check REF CUR --chunk-by C --period 1d`` (or ``--chunk-size N``): one report per chunk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from mlwarden.commands.check import Format, _banded, _progress, text_console

if TYPE_CHECKING:
    from mlwarden.chunks import ChunkedReport
    from mlwarden.schema import ColumnMapping

TABLE_METRICS = ("roc_auc", "accuracy", "mae", "rmse")
COLORS = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def check_chunked(
    reference: Path,
    current: Path,
    mapping: ColumnMapping,
    slos: tuple[dict[str, float], dict[str, dict[str, float]]],
    chunking: dict[str, Any],
    format: Format,
    output: Path | None,
) -> int:
    """Judge CURRENT chunk by chunk against REFERENCE (fitted once); print or write the result in
    ``format`` and return the exit code: 1 when any chunk has a critical finding, else 0. ``slos``: the
    whole data's SLO limits and the per-segment ones (``{segment: {metric: limit}}``)."""
    from mlwarden.chunks import Monitor

    with _progress("profiling the reference") as step:
        monitor = Monitor(reference, mapping, slo=slos[0], segment_slo=slos[1], on_progress=step)
    chunked = monitor.check_chunks(current, **chunking)
    if format is Format.json:
        text = chunked.to_json()
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            typer.echo(text)
    elif format is Format.html:
        typer.echo(f"wrote {chunked.to_html(output or Path('report.html'))}")
    else:
        print_chunks(chunked)
        if output:
            output.write_text(chunked.to_json() + "\n", encoding="utf-8")
    return chunked.exit_code


def print_chunks(chunked: ChunkedReport) -> None:
    """A table with a row per chunk (rows, drifted features, performance, findings), then each chunk's
    critical and warning findings."""
    console = text_console()
    metrics = _metrics(chunked)
    table = Table(title=f"{len(chunked.chunks)} chunks", title_justify="left")
    for name in (
        "chunk",
        "rows",
        "drifted features",
        *(f"{k} {m}" for k, m in metrics),
        "critical",
        "warning",
    ):
        table.add_column(name, justify="left" if name in ("chunk", "drifted features") else "right")
    for c in chunked.chunks:
        counts = c.report.counts()
        performance = [_banded(c.report.performance.get(k, {}), m) for k, m in metrics]
        critical = f"[bold red]{counts['critical']}[/]" if counts["critical"] else "0"
        table.add_row(
            escape(c.key),
            f"{c.rows:,}",
            escape(", ".join(c.report.drift.drifted_features)),
            *performance,
            critical,
            str(counts["warning"]),
        )
    console.print(table)
    for c in chunked.chunks:
        for f in c.report.findings:
            if f.severity.value != "info":
                where = escape(c.key if f.segment is None else f"{c.key} {f.segment}")
                console.print(
                    f"{where} [{COLORS[f.severity.value]}]{f.severity.value:>8}[/] {f.check:<24} "
                    f"{escape(f.message)}",
                    highlight=False,
                )
    total = chunked.counts()
    console.print(f"findings: {total['critical']} critical, {total['warning']} warning, {total['info']} info")


def _metrics(chunked: ChunkedReport) -> list[tuple[str, str]]:
    """``(kind, metric)`` columns of the table, estimated and realized: roc_auc and accuracy for a
    classifier, mae and rmse for a regression model (else the first two metrics any chunk has)."""
    names: dict[str, None] = {}
    for c in chunked.chunks:
        names.update(dict.fromkeys(c.report.performance_names()[0]))
    chosen = [m for m in TABLE_METRICS if m in names][:2] or list(names)[:2]
    return [(kind, m) for m in chosen for kind in ("estimated", "realized")]
