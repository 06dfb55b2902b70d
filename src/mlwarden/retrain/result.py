"""The gate's result: the decision, the overall comparison, one entry per slice value, and the reasons."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Decision = Literal["promote", "hold", "reject"]


@dataclass(frozen=True)
class SliceResult:
    """One value of one slice column: its rows ``n``, both models' metric, ``delta`` = challenger −
    champion with its (multiplicity-adjusted) interval ``ci``, and ``regressed``: ``True``/``False`` when
    judged, ``None`` when not (fewer than ``min_slice_rows`` rows, the metric undefined, or no champion)."""

    column: str
    value: Any
    n: int
    champion: float | None
    challenger: float | None
    delta: float | None
    ci: tuple[float, float] | None
    regressed: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "value": self.value,
            "n": self.n,
            "champion": self.champion,
            "challenger": self.challenger,
            "delta": self.delta,
            "ci": None if self.ci is None else list(self.ci),
            "regressed": self.regressed,
        }


@dataclass(frozen=True)
class GateResult:
    """The champion/challenger decision (DESIGN.md §8).

    ``decision`` is ``promote``, ``hold`` or ``reject``; ``test`` the paired test (``delong``,
    ``mcnemar_exact``, ``mcnemar``, ``bootstrap``; ``none`` for a bootstrap-first acceptance); ``n`` the
    labelled rows compared; ``champion``/``challenger`` the metric of each model on them; ``delta`` =
    challenger − champion on the metric's own scale (for error metrics an improvement is negative) with its
    interval ``ci`` at the gate's confidence and the two-sided ``p_value`` of "no difference". ``settings``
    holds the gate's parameters for the decision record; it is not part of :meth:`to_dict`.
    """

    decision: Decision
    metric: str
    test: str
    n: int
    champion: float | None
    challenger: float | None
    delta: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    slices: tuple[SliceResult, ...]
    reasons: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def promoted(self) -> bool:
        return self.decision == "promote"

    def to_dict(self) -> dict[str, Any]:
        """Exactly the keys of DESIGN.md §8, in its order; numbers as floats, undefined values ``None``."""
        return {
            "decision": self.decision,
            "metric": self.metric,
            "test": self.test,
            "n": self.n,
            "champion": self.champion,
            "challenger": self.challenger,
            "delta": self.delta,
            "ci": None if self.ci is None else list(self.ci),
            "p_value": self.p_value,
            "slices": [s.to_dict() for s in self.slices],
            "reasons": list(self.reasons),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False, default=str)

    def to_html(self, path: str | Path | None = None, *, source: str | None = None) -> str:
        """The one-page decision record (:mod:`mlwarden.retrain.record`); written to ``path`` when given.
        ``source`` names the data shown in the header."""
        from mlwarden.retrain.record import render_html

        html = render_html(self, source=source)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html
