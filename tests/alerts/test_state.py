"""Alert state: rules' ``for`` and ``keep_firing_for`` in windows, resolution, acknowledgement, audit."""

from __future__ import annotations

import pytest
from alert_helpers import OPERATOR, T0, configure, drift, statuses, window
from sqlalchemy import select

from mlwarden.alerts.state import acknowledge, listed
from mlwarden.errors import InputError, NotFoundError
from mlwarden.findings import Finding, Severity
from mlwarden.registry import Actor
from mlwarden.store import Store
from mlwarden.store.schema import Alert, AuditEntry

RULES = """
alerts:
  rules: [{match: {check: drift}, for: 2, keep_firing_for: 1}]
"""


def test_for_and_keep_firing_for_count_windows(store: Store) -> None:
    model = configure(store, RULES)
    window(store, model, [drift("x")], 0)
    assert statuses(store) == {"x": "pending"}  # 1 of 2 windows
    window(store, model, [drift("x")], 1)
    assert statuses(store) == {"x": "firing"}
    window(store, model, [], 2)
    assert statuses(store) == {"x": "firing"}  # keep_firing_for: 1 clear window
    window(store, model, [], 3)
    assert statuses(store) == {"x": "resolved"}
    window(store, model, [drift("x")], 4)  # a recurrence is a new episode, pending again
    with store.session() as session:
        rows = session.execute(select(Alert.status, Alert.fired_at.is_not(None)).order_by(Alert.id)).all()
    assert rows == [("resolved", True), ("pending", False)]


def test_a_pending_alert_that_clears_resolves_without_firing(store: Store) -> None:
    model = configure(store, RULES)
    window(store, model, [drift("x")], 0)
    window(store, model, [], 1)
    with store.session() as session:
        alert = session.scalar(select(Alert))
    assert (alert.status, alert.fired_at) == ("resolved", None)


def test_checks_no_rule_names_fire_at_once_and_info_findings_need_a_rule(store: Store) -> None:
    model = configure(store, RULES)
    other = Finding(check="quality.missing_rate", severity=Severity.CRITICAL, column="y", message="y missing")
    info = Finding(check="drift.new_column", severity=Severity.INFO, column="z", message="new column z")
    window(store, model, [other, info], 0)
    assert statuses(store) == {"y": "firing"}


def test_reevaluating_a_window_does_not_count_it_twice(store: Store) -> None:
    model = configure(store, RULES)
    window(store, model, [drift("x")], 0)
    window(store, model, [drift("x")], 0)  # late data: the same window again
    assert statuses(store) == {"x": "pending"}


def test_unjudged_checks_keep_their_state(store: Store) -> None:
    model = configure(store, "")
    window(store, model, [drift("x")], 0)
    window(store, model, [], 1, judged=lambda check: False)  # no reference: nothing could be judged
    assert statuses(store) == {"x": "firing"}
    window(store, model, [], 2)
    assert statuses(store) == {"x": "resolved"}


def test_worst_severity_of_a_subject_wins(store: Store) -> None:
    model = configure(store, "")
    window(store, model, [drift("x", Severity.CRITICAL), drift("x", Severity.WARNING)], 0)
    with store.session() as session:
        assert session.scalar(select(Alert.severity)) == "critical"


def test_every_state_change_is_audited_and_ack_is_recorded(store: Store) -> None:
    model = configure(store, RULES)
    window(store, model, [drift("x")], 0)
    window(store, model, [drift("x")], 1)
    with store.session() as session:
        alert_id = session.scalar(select(Alert.id))
        acknowledge(session, OPERATOR, alert_id, T0)
    with store.session() as session:
        assert [r["status"] for r in listed(session, OPERATOR, "acknowledged", T0)] == ["firing"]
        assert listed(session, OPERATOR, "firing", T0) == []
        with pytest.raises(NotFoundError):
            acknowledge(session, Actor("other", 999, frozenset({"admin"})), alert_id, T0)
    window(store, model, [], 2)
    window(store, model, [], 3)
    with store.session() as session:
        actions = session.execute(
            select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.entity == f"alert:{alert_id}")
        ).all()
        assert actions == [
            ("alert.pending", "mlwarden.alerts"),
            ("alert.firing", "mlwarden.alerts"),
            ("alert.acknowledge", "test"),
            ("alert.resolved", "mlwarden.alerts"),
        ]
        with pytest.raises(InputError, match="is resolved"):
            acknowledge(session, OPERATOR, alert_id, T0)
