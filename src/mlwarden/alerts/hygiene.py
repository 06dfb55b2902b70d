"""Ownership hygiene: the problems that stop anyone from hearing about a model's problems.

A model without an owner, a receiver whose last deliveries all failed, a model with no traffic or unusual
traffic volume, labels overdue and windows left unevaluated are findings (``ownership.*``, ``traffic.*``,
``labels.overdue``, ``evaluation.stale``) that the scheduler turns into alerts to the owner or, when the
owner cannot be reached, to the team's admins. :func:`problems` is the pure decision; :func:`model_health`
reads what it needs from the store.

Unusual volume: the rows of the last closed window against a band learned from the model's own history —
the median of the previous ``volume.windows`` closed windows ± ``volume.k`` scaled MADs (MAD × 1.4826, a
consistent estimate of the standard deviation for normal data; Rousseeuw & Croux, *Alternatives to the
median absolute deviation*, JASA 1993), the half-width at least ``volume.min_relative`` of the median so a
perfectly regular history does not flag a one-row difference. The limits are the model configuration's
``alerts.hygiene`` section (:class:`~mlwarden.schema.alerting.Hygiene`). Median and MAD ignore the
outliers that a mean and a standard deviation would learn from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from mlwarden.findings import Finding, Severity
from mlwarden.schema.alerting import Hygiene

MAD_TO_SD = 1.4826  # 1 / Φ⁻¹(3/4): the MAD of normal data times this estimates its standard deviation


@dataclass(slots=True)
class ModelHealth:
    """What hygiene knows about one model. ``window_rows`` are rows per closed window, oldest first (the
    last one is the window judged); ``receivers`` maps each configured receiver to whether it is reachable
    (its last ``failing_deliveries`` attempted deliveries did not all fail)."""

    model: str
    team: str
    owner_name: str | None
    owner_email: str | None
    created_at: datetime
    last_batch: datetime | None = None
    last_label: datetime | None = None
    last_evaluation: datetime | None = None
    oldest_unevaluated_close: datetime | None = None
    window_rows: list[int] = field(default_factory=list)
    receivers: dict[str, bool] = field(default_factory=dict)

    @property
    def owner_reachable(self) -> bool:
        """An owner exists and at least one of the model's receivers (or, with none, the owner's email) is
        reachable."""
        if not (self.owner_email or self.owner_name):
            return False
        return any(self.receivers.values()) if self.receivers else self.owner_email is not None


def volume_band(
    history: Sequence[float], *, k: float = 4.0, min_relative: float = 0.1
) -> tuple[float, float]:
    """``(low, high)`` = median ± max(k · 1.4826 · MAD, min_relative · median) of ``history`` (rows per
    window). Raises ValueError on an empty history."""
    rows = np.asarray(history, dtype=float)
    if rows.size == 0:
        raise ValueError("volume_band: history is empty")
    median = float(np.median(rows))
    mad = float(np.median(np.abs(rows - median)))
    half = max(k * MAD_TO_SD * mad, min_relative * median)
    return median - half, median + half


def problems(health: ModelHealth, limits: Hygiene, now: datetime) -> list[Finding]:
    """The hygiene findings for one model at ``now`` (timezone-aware), most urgent first. Each carries the
    model, the value measured (hours, or rows), the limit as ``threshold`` and its evidence."""
    found: list[Finding] = []

    def add(check: str, severity: Severity, message: str, **extra: object) -> None:
        found.append(Finding(check=check, severity=severity, model=health.model, message=message, **extra))

    if not (health.owner_email or health.owner_name):
        add(
            "ownership.no_owner",
            Severity.CRITICAL,
            f"model {health.model} has no owner: nobody is told when it breaks; set one in its config",
        )
    for receiver, reachable in sorted(health.receivers.items()):
        if not reachable:
            add(
                "ownership.receiver_failing",
                Severity.CRITICAL,
                f"receiver {receiver} of model {health.model} failed its last "
                f"{limits.failing_deliveries} deliveries",
                column=receiver,
                threshold=float(limits.failing_deliveries),
                evidence={"receiver": receiver},
            )
    since_traffic = now - (health.last_batch or health.created_at)
    if limits.no_traffic is not None and since_traffic > timedelta(seconds=limits.no_traffic):
        add(
            "traffic.none",
            Severity.WARNING,
            f"model {health.model} received no batch for {_hours(since_traffic)} "
            f"(limit {_hours(timedelta(seconds=limits.no_traffic))})",
            value=since_traffic.total_seconds() / 3600,
            threshold=limits.no_traffic / 3600,
            evidence={"last_batch": _iso(health.last_batch)},
        )
    band = limits.volume
    history = health.window_rows[:-1][-band.windows :]
    if health.window_rows and len(history) >= band.min_windows:
        low, high = volume_band(history, k=band.k, min_relative=band.min_relative)
        rows = health.window_rows[-1]
        if not low <= rows <= high:
            add(
                "traffic.volume",
                Severity.WARNING,
                f"model {health.model} received {rows:,} rows in its last window, outside its usual "
                f"{max(low, 0):,.0f}–{high:,.0f} (median ± {band.k:g} MADs of "
                f"{len(history)} windows)",
                value=float(rows),
                threshold=float(low if rows < low else high),
                evidence={
                    "low": low,
                    "high": high,
                    "median": float(np.median(history)),
                    "windows": len(history),
                },
            )
    if limits.labels_overdue is not None and health.last_label is not None:
        since_label = now - health.last_label
        if since_label > timedelta(seconds=limits.labels_overdue):
            add(
                "labels.overdue",
                Severity.WARNING,
                f"model {health.model} received no labels for {_hours(since_label)} "
                f"(limit {_hours(timedelta(seconds=limits.labels_overdue))}): realized performance is not "
                "measured",
                value=since_label.total_seconds() / 3600,
                threshold=limits.labels_overdue / 3600,
                evidence={"last_label": _iso(health.last_label)},
            )
    if limits.evaluation_stale is not None and health.oldest_unevaluated_close is not None:
        waiting = now - health.oldest_unevaluated_close
        if waiting > timedelta(seconds=limits.evaluation_stale):
            add(
                "evaluation.stale",
                Severity.CRITICAL,
                f"a window of model {health.model} closed {_hours(waiting)} ago and is still not evaluated "
                f"(limit {_hours(timedelta(seconds=limits.evaluation_stale))}): is a scheduler or worker "
                "running?",
                value=waiting.total_seconds() / 3600,
                threshold=limits.evaluation_stale / 3600,
                evidence={
                    "closed_at": _iso(health.oldest_unevaluated_close),
                    "last_evaluation": _iso(health.last_evaluation),
                },
            )
    return sorted(found, key=lambda f: -f.severity.rank)


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None
