"""The text report's per-segment part: a summary table (worst segments first), then each flagged
segment's findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from mlwarden.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from mlwarden.report import Report

SEVERITY_STYLES = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
SUMMARY_METRICS = ("roc_auc", "accuracy", "mae", "rmse")


def segment_options(values: list[str]) -> list[str | tuple[str, ...]]:
    """``--segment`` values as ``columns.segments`` entries: ``country`` splits on one column,
    ``country,plan`` crosses the two."""
    out: list[str | tuple[str, ...]] = []
    for value in values:
        columns = tuple(c.strip() for c in value.split(","))
        if not all(columns):
            raise InputError(f"--segment {value!r}: expected COLUMN or COLUMN,COLUMN (crossed)")
        out.append(columns[0] if len(columns) == 1 else columns)
    return out


def print_segments(report: Report, console: Console) -> None:
    """One row per segment (worst first): rows, drifted features, findings, headline metrics; then the
    non-info findings of each segment that has some."""
    if not report.segments:
        return
    metrics = [m for m in SUMMARY_METRICS if m in report.performance_names()[0]][:2]
    table = Table(title="segments (worst first)", title_justify="left")
    for name in ("segment", "rows ref → cur", "drifted features", "critical", "warning"):
        table.add_column(name, justify="right" if name in ("critical", "warning") else "left")
    for name in metrics:
        table.add_column(f"{name} est. / real.", justify="right")
    for s in report.segments:
        drifted = ", ".join(s.drift.drifted_features) if s.drift is not None else "–"
        counts = [sum(f.severity.value == sev for f in s.findings) for sev in ("critical", "warning")]
        cells = [
            escape(s.segment),
            f"{s.rows['reference']:,} → {s.rows['current']:,}",
            escape(drifted or "–"),
            *(str(c) for c in counts),
        ]
        for name in metrics:
            shown = [s.performance[side].get(name) for side in ("estimated", "realized")]
            cells.append(" / ".join("–" if v is None else f"{v:.3f}" for v in shown))
        table.add_row(*cells)
    console.print(table)
    for s in report.segments:
        serious = [f for f in s.findings if f.severity.value != "info"]
        if not serious:
            continue
        console.print(f"[bold]segment {escape(s.segment)}[/]", highlight=False)
        for f in serious:
            style = SEVERITY_STYLES[f.severity.value]
            console.print(
                f"[{style}]{f.severity.value:>8}[/] {f.check:<26} {escape(f.message)}",
                markup=True,
                highlight=False,
            )
