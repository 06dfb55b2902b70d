"""The result of ``mlwarden.compare``: findings, drift, performance — as objects, JSON or HTML."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlwarden.drift import ColumnDrift, DriftResult
from mlwarden.findings import Finding, Severity, finite_or_none, sort_findings
from mlwarden.profile import DatasetProfile
from mlwarden.schema import ColumnMapping

if TYPE_CHECKING:
    from mlwarden.segments import SegmentResult

# Row counts among the performance entries, and how reports label them.
COUNT_LABELS = {"n": "rows", "n_scored": "rows with finite scores", "n_predicted": "rows with a prediction"}


@dataclass(slots=True)
class Report:
    """Everything one comparison of current data with its reference found.

    ``mapping`` is the column mapping the comparison used: it splits the drift verdicts into feature drift,
    target drift and output (prediction and score) drift, each reported in its own section. ``segments``
    holds one result per segment (worst first) when the mapping names segment columns; ``findings`` then
    include the segments' findings, each with its ``segment``.
    """

    reference: DatasetProfile
    current: DatasetProfile
    drift: DriftResult
    findings: list[Finding]
    performance: dict[str, dict[str, float | None]] = field(
        default_factory=lambda: {"estimated": {}, "realized": {}}
    )
    notes: list[str] = field(default_factory=list)
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    segments: list[SegmentResult] = field(default_factory=list)  # worst first; with columns.segments

    def __post_init__(self) -> None:
        self.findings = sort_findings(self.findings)

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 1 when any finding is critical, else 0."""
        return int(any(f.severity is Severity.CRITICAL for f in self.findings))

    def performance_names(self) -> tuple[list[str], list[str]]:
        """``(metrics, counts)``: the metric names and the row-count names (``n``, ``n_*``) of either side,
        in order of appearance; the ``_lower``/``_upper`` band entries are left to their metric."""
        names = dict.fromkeys(name for side in self.performance.values() for name in side)
        names = [n for n in names if not n.endswith(("_lower", "_upper"))]
        counts = [n for n in names if n == "n" or n.startswith("n_")]
        return [n for n in names if n not in counts], counts

    def counts(self) -> dict[str, int]:
        """Number of findings per severity."""
        return {s.value: sum(f.severity is s for f in self.findings) for s in Severity}

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``mlwarden check --format json`` (DESIGN §3, docs/cli.md); NaN/inf become null.

        ``drift.columns``, ``drift.drifted_columns`` and ``drift.share_drifted`` cover the features;
        ``drift.target`` and ``drift.outputs`` hold the label's and the outputs' verdicts in the same shape.
        """
        return {
            "reference": {"source": self.reference.source, "rows": self.reference.rows},
            "current": {"source": self.current.source, "rows": self.current.rows},
            "mapping": self.mapping.model_dump(mode="json", exclude_defaults=True),
            "drift": self.drift.to_dict(),
            "performance": {
                kind: {name: finite_or_none(v) for name, v in metrics.items()}
                for kind, metrics in self.performance.items()
            },
            "findings": [f.to_dict() for f in self.findings],
            "summary": self.counts(),
            "notes": self.notes,
            "created_at": self.created_at.isoformat(),
        } | ({"segments": [s.to_dict() for s in self.segments]} if self.mapping.segments else {})

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (no NaN or Infinity tokens)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=_jsonable)

    def to_html(self, path: str | Path) -> Path:
        """Write one self-contained HTML file (no network needed to open it) and return its path."""
        from mlwarden.report.html import render_html

        path = Path(path)
        path.write_text(render_html(self), encoding="utf-8")
        return path

    def summary(self) -> str:
        """A few lines for humans."""
        counts = self.counts()
        drifted = self.drift.drifted_features
        tested = sum(c.score is not None for c in self.drift.features)
        lines = [
            f"reference: {self.reference.source or 'DataFrame'} ({self.reference.rows:,} rows); "
            f"current: {self.current.source or 'DataFrame'} ({self.current.rows:,} rows)",
            f"feature drift: {len(drifted)} of {tested} columns drifted"
            + (f" ({', '.join(drifted)})" if drifted else ""),
        ]
        for title, entries in (("target drift", self.drift.target), ("output drift", self.drift.outputs)):
            if entries:
                shown = ", ".join(f"{c.column} {verdict(c)}" for c in entries)
                lines.append(f"{title}: {shown}")
        lines += [
            f"findings: {counts['critical']} critical, {counts['warning']} warning, {counts['info']} info",
        ]
        return "\n".join(lines)


def verdict(entry: ColumnDrift) -> str:
    """``drifted``, ``stable`` or ``not tested`` (with the reason in ``entry.note``)."""
    return "drifted" if entry.drifted else ("not tested" if entry.score is None else "stable")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return finite_or_none(value.item()) if isinstance(value.item(), float) else value.item()
    return str(value)
