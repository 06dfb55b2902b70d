"""The one result shape every check returns, and everything downstream consumes."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How urgent a finding is. Ordered: ``info < warning < critical``."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation a check makes about a model's data, outputs or performance.

    ``check`` is a dotted name (``drift``, ``skew``, ``contract.missing_column``, ``performance.estimated``);
    ``value`` and ``threshold`` are on the check's own scale; ``evidence`` holds small, JSON-serialisable
    supporting detail (example values, counts, p-values).
    """

    check: str
    severity: Severity
    message: str
    column: str | None = None
    value: float | None = None
    threshold: float | None = None
    model: str | None = None
    segment: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO-8601, non-finite numbers as ``None``)."""
        out = asdict(self)
        out["severity"] = self.severity.value
        for key in ("window_start", "window_end"):
            if out[key] is not None:
                out[key] = out[key].isoformat()
        for key in ("value", "threshold"):
            out[key] = finite_or_none(out[key])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        data = dict(data)
        for key in ("window_start", "window_end"):
            if isinstance(data.get(key), str):
                data[key] = datetime.fromisoformat(data[key])
        return cls(**data)


def finite_or_none(value: float | None) -> float | None:
    """``value`` as a float, or ``None`` when it is missing, NaN or infinite (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def worst_severity(findings: Iterable[Finding]) -> Severity | None:
    """The most severe level among ``findings``, or ``None`` when there are none."""
    return max((f.severity for f in findings), key=lambda s: s.rank, default=None)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by check and column, so reports read top-down."""
    return sorted(findings, key=lambda f: (-f.severity.rank, f.check, f.column or ""))
