"""The result of ``mlwarden.compare``: findings, drift, performance — as objects, JSON or HTML."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlwarden.drift import DriftResult
from mlwarden.findings import Finding, Severity, finite_or_none, sort_findings
from mlwarden.profile import DatasetProfile


@dataclass(slots=True)
class Report:
    """Everything one comparison of current data with its reference found."""

    reference: DatasetProfile
    current: DatasetProfile
    drift: DriftResult
    findings: list[Finding]
    performance: dict[str, dict[str, float | None]] = field(
        default_factory=lambda: {"estimated": {}, "realized": {}}
    )
    notes: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self.findings = sort_findings(self.findings)

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 1 when any finding is critical, else 0."""
        return int(any(f.severity is Severity.CRITICAL for f in self.findings))

    def counts(self) -> dict[str, int]:
        """Number of findings per severity."""
        return {s.value: sum(f.severity is s for f in self.findings) for s in Severity}

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``mlwarden check --format json`` (see DESIGN §3); NaN/inf become null."""
        return {
            "reference": {"source": self.reference.source, "rows": self.reference.rows},
            "current": {"source": self.current.source, "rows": self.current.rows},
            "drift": self.drift.to_dict(),
            "performance": {
                kind: {name: finite_or_none(v) for name, v in metrics.items()}
                for kind, metrics in self.performance.items()
            },
            "findings": [f.to_dict() for f in self.findings],
            "summary": self.counts(),
            "notes": self.notes,
            "created_at": self.created_at.isoformat(),
        }

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
        drifted = self.drift.drifted_columns
        tested = sum(c.score is not None for c in self.drift.columns)
        lines = [
            f"reference: {self.reference.source or 'DataFrame'} ({self.reference.rows:,} rows); "
            f"current: {self.current.source or 'DataFrame'} ({self.current.rows:,} rows)",
            f"drift: {len(drifted)} of {tested} columns drifted"
            + (f" ({', '.join(drifted)})" if drifted else ""),
            f"findings: {counts['critical']} critical, {counts['warning']} warning, {counts['info']} info",
        ]
        return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return finite_or_none(value.item()) if isinstance(value.item(), float) else value.item()
    return str(value)
