"""Escalation decisions: which steps of ``escalate:`` are due for an alert at a given moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mlwarden.alerts.escalation import Step, due_steps

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
STEPS = [Step(timedelta(minutes=30), "oncall"), Step(timedelta(hours=2), "manager")]


def due(minutes: float, *, status="firing", acknowledged=False, sent=()) -> list[int]:
    return due_steps(
        STEPS,
        status=status,
        firing_since=T0,
        acknowledged=acknowledged,
        sent=sent,
        now=T0 + timedelta(minutes=minutes),
    )


def test_each_step_is_due_once_its_delay_has_passed() -> None:
    assert due(29.9) == []
    assert due(30) == [0]
    assert due(119, sent=[0]) == []
    assert due(120, sent=[0]) == [1]
    assert due(600, sent=[0, 1]) == []


def test_a_scheduler_that_was_away_sends_every_missed_step_in_order() -> None:
    assert due(180) == [0, 1]


def test_acknowledged_or_resolved_alerts_never_escalate() -> None:
    assert due(180, acknowledged=True) == []
    assert due(180, status="resolved") == []


def test_no_steps_no_escalation() -> None:
    assert due_steps([], status="firing", firing_since=T0, acknowledged=False, sent=[], now=T0) == []
