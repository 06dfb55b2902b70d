"""``ChunkedReport``: one :class:`~mlwarden.report.Report` per chunk, as a JSON list, a table or HTML."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlwarden.findings import Severity

if TYPE_CHECKING:
    from mlwarden.report import Report


@dataclass(slots=True)
class ChunkResult:
    """One chunk's report: ``key`` (period start or chunk number), ``start``/``end`` (see
    :class:`~mlwarden.chunks.Chunk`) and ``rows``."""

    key: str
    start: Any
    end: Any
    rows: int
    report: Report

    def to_dict(self) -> dict[str, Any]:
        """The chunk's report JSON (``Report.to_dict``) headed by ``chunk``: key, start, end, rows."""
        head = {"key": self.key, "start": _plain(self.start), "end": _plain(self.end), "rows": self.rows}
        return {"chunk": head, **self.report.to_dict()}


@dataclass(slots=True)
class ChunkedReport:
    """The reports of every chunk, in order, and how the chunks were cut."""

    chunks: list[ChunkResult]
    chunk_by: str | None = None
    period: str | None = None
    chunk_size: int | None = None
    source: str | None = None
    slo: dict[str, float] = field(default_factory=dict)  # drawn as the SLO line of each metric's plot
    reference_performance: dict[str, float | None] = field(default_factory=dict)  # the reference's realized

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 1 when any chunk has a critical finding, else 0."""
        return max((c.report.exit_code for c in self.chunks), default=0)

    def to_dict(self) -> list[dict[str, Any]]:
        """One object per chunk (:meth:`ChunkResult.to_dict`): the JSON list of ``check --chunk-by``."""
        return [c.to_dict() for c in self.chunks]

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (no NaN or Infinity tokens): a list with one report per chunk."""
        from mlwarden.report.report import _jsonable

        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=_jsonable)

    def to_html(self, path: str | Path) -> Path:
        """Write one self-contained HTML page: each metric and drift score over the chunks, with bands and
        thresholds, then each chunk's findings."""
        from mlwarden.report.chunks import render_chunks_html

        path = Path(path)
        path.write_text(render_chunks_html(self), encoding="utf-8")
        return path

    def series(self, kind: str, metric: str) -> list[tuple[float | None, float | None, float | None]]:
        """``(value, lower, upper)`` of ``performance[kind][metric]`` per chunk (``None`` where unknown)."""
        out = []
        for c in self.chunks:
            values = c.report.performance.get(kind, {})
            out.append(tuple(values.get(f"{metric}{s}") for s in ("", "_lower", "_upper")))
        return out

    def drift_series(self, column: str) -> list[tuple[float | None, float | None, bool]]:
        """``(score, threshold, drifted)`` of ``column`` per chunk (``None`` score: not tested there)."""
        out = []
        for c in self.chunks:
            entry = next((e for e in c.report.drift.columns if e.column == column), None)
            out.append(
                (None, None, False) if entry is None else (entry.score, entry.threshold, entry.drifted)
            )
        return out

    def counts(self) -> dict[str, int]:
        """Findings per severity over every chunk."""
        return {s.value: sum(c.report.counts()[s.value] for c in self.chunks) for s in Severity}


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
