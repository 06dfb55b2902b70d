"""Escalation: an unacknowledged firing alert is sent along ``escalate: [{after, receiver}]``, one
notification per step, each step once.

The decision is a pure function of the alert's state and the clock (:func:`due_steps`), so the scheduler can
ask it on every tick and any replica answers the same; the steps already sent are recorded with the alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Step:
    """One escalation step: after ``after`` of firing without an acknowledgement, notify ``receiver``."""

    after: timedelta
    receiver: str


def due_steps(
    steps: Sequence[Step],
    *,
    status: str,
    firing_since: datetime,
    acknowledged: bool,
    sent: Iterable[int],
    now: datetime,
) -> list[int]:
    """Indexes into ``steps`` whose notification is due now: the alert is ``firing``, not acknowledged,
    has fired for at least the step's ``after`` and the step is not in ``sent``. Several steps can be due
    at once (a scheduler that was down): each still gets its one notification, in ``steps`` order.

    ``firing_since`` and ``now`` are timezone-aware datetimes. A resolved or acknowledged alert never
    escalates; a step once sent is not sent again, even when the alert fires again later under the same
    fingerprint (its escalation restarts only when ``sent`` is reset with a new firing)."""
    if status != "firing" or acknowledged:
        return []
    done = set(sent)
    elapsed = now - firing_since
    return [i for i, step in enumerate(steps) if i not in done and elapsed >= step.after]
