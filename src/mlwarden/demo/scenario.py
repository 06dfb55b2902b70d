"""The demo's timeline: a churn model's labelled reference and six past hours of production traffic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from mlwarden.demo.data import PREDICTION, SCORE, TARGET, Phase, churn, score, train

# (phase, whether the churn outcomes of that hour have arrived yet), oldest hour first
PLAN: tuple[tuple[Phase, bool], ...] = (
    ("healthy", True),
    ("healthy", True),
    ("drifted", True),
    ("drifted", True),
    ("broken", True),
    ("broken", False),
)
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Hour:
    """One simulated hour of traffic: scored rows with their (eventual) churn outcome in ``churned``."""

    number: int
    phase: Phase
    start: datetime
    labelled: bool
    frame: pd.DataFrame

    @property
    def timestamps(self) -> pd.DatetimeIndex:
        """Request times spread evenly over the hour."""
        return pd.date_range(self.start, self.start + HOUR, periods=len(self.frame) + 1, inclusive="left")

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.start + HOUR:%H:%M}"


@dataclass(frozen=True, slots=True)
class Scenario:
    reference: pd.DataFrame
    offline_metrics: dict[str, float]
    hours: list[Hour]


def simulate(rows_per_hour: int, *, reference_rows: int = 10_000, now: datetime | None = None) -> Scenario:
    """Train the model, score a labelled reference (its validation set) and the last ``len(PLAN)`` full
    hours before ``now``: closed event-time windows, evaluated as soon as the server sees them."""
    from mlwarden.performance import realized_performance

    model = train(seed=100)
    reference = score(model, churn(reference_rows, seed=0))
    metrics = realized_performance(reference, target=TARGET, prediction=PREDICTION, scores=[SCORE])
    offline = {
        k: round(v, 4) for k, v in metrics.items() if k in ("roc_auc", "accuracy", "f1") and v is not None
    }
    first = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0) - len(PLAN) * HOUR
    hours = [
        Hour(
            number=i + 1,
            phase=phase,
            start=first + i * HOUR,
            labelled=labelled,
            frame=score(model, churn(rows_per_hour, phase=phase, seed=i + 1, id_prefix=f"h{i + 1}-")),
        )
        for i, (phase, labelled) in enumerate(PLAN)
    ]
    return Scenario(reference=reference, offline_metrics=offline, hours=hours)
