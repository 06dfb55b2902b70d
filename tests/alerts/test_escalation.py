"""Escalation: which steps of ``escalate:`` are due for an alert at a given moment, and the outbox entries
the sender writes for them (once each; resolved to every receiver reached; none acknowledged or silenced)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alert_helpers import OPERATOR, configure, drift, window
from sqlalchemy import select

from mlwarden.alerts import silences
from mlwarden.alerts.escalation import Step, due_steps, escalate_due
from mlwarden.alerts.notification import Notification
from mlwarden.alerts.receivers import text
from mlwarden.alerts.state import acknowledge
from mlwarden.findings import Severity
from mlwarden.store import Store
from mlwarden.store.schema import Alert, OutboxEntry

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


# --- through the outbox, on a real store (SQLite file and PostgreSQL) -----------------------------------

ESCALATING = """
alerts:
  receivers:
    owner: {webhook: {url: "http://127.0.0.1:9/owner"}}
    oncall: {pagerduty: {routing_key: "${PD_KEY}", url: "http://127.0.0.1:9/v2/enqueue"}}
    manager: {email: boss@example.com}
  route: {receiver: owner}
  escalate: [{after: 30m, receiver: oncall}, {after: 2h, receiver: manager}]
"""


def escalations(store: Store) -> list[tuple[str, str, str, str]]:
    """``(key, receiver, status, title annotation)`` of the outbox's escalation entries, oldest first."""
    with store.session() as session:
        rows = session.scalars(
            select(OutboxEntry).where(OutboxEntry.key.startswith("escalate-")).order_by(OutboxEntry.id)
        ).all()
        return [
            (
                e.key,
                e.receiver,
                e.payload["status"],
                e.payload["alerts"][0]["annotations"].get("escalation", ""),
            )
            for e in rows
        ]


def run(store: Store, at: datetime) -> int:
    with store.session() as session:
        return escalate_due(session, at)


def test_escalation_steps_reach_the_outbox_once_each(store: Store) -> None:
    model = configure(store, ESCALATING)
    fired = window(store, model, [drift("x")], 0)
    assert run(store, fired + timedelta(minutes=29)) == 0
    assert run(store, fired + timedelta(minutes=30)) == 1
    assert run(store, fired + timedelta(minutes=31)) == 0  # already sent: once only
    assert run(store, fired + timedelta(hours=3)) == 1
    alert_id = escalations(store)[0][0].split("-")[1]
    assert escalations(store) == [
        (f"escalate-{alert_id}-0", "oncall", "firing", "step 1: unacknowledged 30 min after it fired"),
        (f"escalate-{alert_id}-1", "manager", "firing", "step 2: unacknowledged 2 h after it fired"),
    ]
    with store.session() as session:
        first = Notification.from_dict(
            session.scalar(select(OutboxEntry.payload).where(OutboxEntry.key.startswith("escalate-")))
        )
    assert text.title(first) == "[ESCALATED:1 warning] churn: drift on x"
    assert first.group_labels == {
        "alertname": "drift",
        "model": "churn",
        "check": "drift",
        "severity": "warning",
        "column": "x",
        "team": "growth",
    }
    window(store, model, [], 1)  # the drift cleared: everyone it escalated to hears it resolved
    assert run(store, fired + timedelta(hours=4)) == 2
    assert run(store, fired + timedelta(hours=5)) == 0
    assert [(r, s) for _, r, s, _ in escalations(store)][2:] == [
        ("oncall", "resolved"),
        ("manager", "resolved"),
    ]


def test_acknowledged_or_silenced_alerts_do_not_escalate(store: Store) -> None:
    model = configure(store, ESCALATING)
    fired = window(store, model, [drift("x"), drift("y")], 0)
    with store.session() as session:
        alert_x = session.scalar(select(Alert.id).where(Alert.column == "x"))
        acknowledge(session, OPERATOR, alert_x, fired)
        silences.create(session, OPERATOR, [{"name": "column", "value": "y"}], now=fired, duration="1h")
    assert run(store, fired + timedelta(minutes=45)) == 0  # x acknowledged, y silenced
    assert run(store, fired + timedelta(minutes=61)) == 1  # the silence ended: y escalates
    assert [r for _, r, _, _ in escalations(store)] == ["oncall"]


def test_a_step_with_matchers_escalates_only_the_alerts_it_selects(store: Store) -> None:
    model = configure(
        store,
        ESCALATING.replace(
            "escalate: [{after: 30m, receiver: oncall}, {after: 2h, receiver: manager}]",
            "escalate: [{after: 30m, receiver: oncall, match: {severity: critical}},"
            " {after: 2h, receiver: manager, match_re: {column: 'x|y'}}]",
        ),
    )
    fired = window(store, model, [drift("x", Severity.CRITICAL), drift("y"), drift("z")], 0)
    assert run(store, fired + timedelta(hours=3)) == 3  # x to both steps, y only to the manager's
    with store.session() as session:
        column = dict(session.execute(select(Alert.id, Alert.column)).all())
    assert sorted((column[int(k.split("-")[1])], r) for k, r, _, _ in escalations(store)) == [
        ("x", "manager"),
        ("x", "oncall"),
        ("y", "manager"),
    ]
