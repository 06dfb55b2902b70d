"""Ownership health on a real store (SQLite file and PostgreSQL): the owners audit (one row per model, least
healthy first) and the hygiene pass (problems become alerts to the owner, or to the team's admins)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alert_helpers import configure
from sqlalchemy import select, update

from mlwarden.alerts.grouping import flush_due
from mlwarden.alerts.owners import audit_rows, evaluate_hygiene, ownership
from mlwarden.registry import Actor, ModelSpec, Registry
from mlwarden.registry.admins import set_admins
from mlwarden.store import Store
from mlwarden.store.schema import Alert, Batch, Model, OutboxEntry, PartialProfile, Window

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
HOUR = timedelta(hours=1)


def add_window(session, model_id: int, start: datetime, rows: int, status: str = "evaluated") -> None:
    batch = Batch(
        model_id=model_id, kind="predictions", batch_id=f"b-{start:%Y%m%d%H}", rows=rows, received_at=start
    )
    session.add(batch)
    session.flush()
    session.add(
        PartialProfile(model_id=model_id, batch_pk=batch.id, window_start=start, rows=rows, profile=b"-")
    )
    evaluated = start + HOUR + timedelta(minutes=2) if status == "evaluated" else None
    session.add(
        Window(model_id=model_id, start=start, end=start + HOUR, status=status, evaluated_at=evaluated)
    )


def test_audit_lists_every_model_by_ownership_health(store: Store) -> None:
    registry, operator = Registry(store), Actor.operator()
    registry.create_model(
        operator, ModelSpec(name="churn", team="growth", owner_name="Ada", owner_email="ada@example.com")
    )
    registry.create_model(operator, ModelSpec(name="orphan", team="growth"))
    registry.create_model(operator, ModelSpec(name="fraud", team="risk", owner_email="bo@example.com"))
    with store.session() as session:
        ids = {m.name: m.id for m in session.query(Model)}
        for i in range(12, 2, -1):  # churn: 10 regular hours, then a window with a tenth of the traffic
            add_window(session, ids["churn"], NOW - i * HOUR, 1_000 + 10 * (i % 3))
        add_window(session, ids["churn"], NOW - 2 * HOUR, 100)
        add_window(session, ids["fraud"], NOW - 30 * HOUR, 500)
        add_window(session, ids["fraud"], NOW - 5 * HOUR, 500, status="open")  # closed, never evaluated
        session.add(
            Batch(model_id=ids["churn"], kind="labels", batch_id="l1", rows=9, received_at=NOW - 72 * HOUR)
        )
    with store.session() as session:
        owned = ownership(session, now=NOW)
        healths = {o.health.model: o.health for o in owned}
        growth = [
            o.health.model
            for o in ownership(session, team_id=session.get(Model, ids["churn"]).team_id, now=NOW)
        ]
    assert growth == ["churn", "orphan"]
    churn = healths["churn"]
    assert churn.window_rows == [*(1_000 + 10 * (i % 3) for i in range(12, 2, -1)), 100]
    assert churn.last_batch == NOW - 2 * HOUR and churn.last_label == NOW - 72 * HOUR
    assert churn.last_evaluation == NOW - HOUR + timedelta(minutes=2)
    assert churn.oldest_unevaluated_close is None
    assert healths["fraud"].oldest_unevaluated_close == NOW - 4 * HOUR + timedelta(seconds=60)
    rows = audit_rows(owned, NOW)
    assert [(r["model"], r["problems"]) for r in rows] == [
        ("fraud", ["evaluation.stale"]),
        ("orphan", ["ownership.no_owner"]),
        ("churn", ["traffic.volume", "labels.overdue"]),
    ]
    assert rows[1]["owner_reachable"] is False and rows[2]["owner_reachable"] is True
    assert rows[2]["last_label"] == (NOW - 72 * HOUR).isoformat()


def outbox(store: Store) -> list[tuple[str, str, str, list[str]]]:
    """``(key, receiver, status, checks)`` of every outbox entry, oldest first."""
    with store.session() as session:
        return [
            (
                e.key,
                e.receiver,
                e.payload.get("status"),
                [a["labels"]["check"] for a in e.payload.get("alerts", [])],
            )
            for e in session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))
        ]


def test_an_unowned_model_alerts_the_team_admins_once_and_then_its_resolution(store: Store) -> None:
    registry, operator = Registry(store), Actor.operator()
    registry.create_model(operator, ModelSpec(name="orphan", team="growth"))
    assert set_admins(store, "growth", add=["lead@example.com", "ops@example.com"]) == [
        "lead@example.com",
        "ops@example.com",
    ]
    now = datetime.now(UTC)
    assert evaluate_hygiene(store, now) == 1
    assert evaluate_hygiene(store, now + timedelta(minutes=1)) == 0  # told once
    with store.session() as session:
        alert = session.scalar(select(Alert))
        spec = session.scalar(select(OutboxEntry.receiver_spec))
    assert (alert.check, alert.status, alert.severity) == ("ownership.no_owner", "firing", "critical")
    assert spec["email"]["to"] == ["lead@example.com", "ops@example.com"]
    registry.update_model(operator, "orphan", owner_name="Ada", owner_email="ada@example.com")
    assert evaluate_hygiene(store, now + timedelta(minutes=2)) == 1
    assert [(k, r, s) for k, r, s, _ in outbox(store)] == [
        (f"admins-{alert.id}", "team-admins", "firing"),
        (f"admins-{alert.id}-resolved", "team-admins", "resolved"),
    ]


def test_failing_receivers_and_stale_windows_alert_the_owner_through_the_route(store: Store) -> None:
    model = configure(
        store,
        "owner: {name: Ada, email: ada@example.com, team: growth}\n"
        "alerts:\n"
        "  receivers: {hook: {webhook: {url: 'http://127.0.0.1:9/h'}}, mail: {email: ada@example.com}}\n"
        "  route: {receivers: [hook, mail], group_wait: 10s}\n"
        "  hygiene: {failing_deliveries: 2, evaluation_stale: 30m}\n",
    )
    set_admins(store, "growth", add=["lead@example.com"])
    now = datetime.now(UTC)
    with store.session() as session:
        for i in range(2):
            session.add(
                OutboxEntry(key=f"old-{i}", model_id=model.id, receiver="hook", status="dead", attempts=1)
            )
        add_window(session, model.id, now - 3 * HOUR, 100, status="open")  # closed 2 h ago, not evaluated
    evaluate_hygiene(store, now)
    with store.session() as session:
        alerts = {(a.check, a.column) for a in session.scalars(select(Alert).where(Alert.status == "firing"))}
        flush_due(session, now + timedelta(seconds=11))
        audit = audit_rows(ownership(session, now=now), now)
    assert alerts == {("ownership.receiver_failing", "hook"), ("evaluation.stale", "")}
    assert audit[0]["reachable_receivers"] == ["mail"] and audit[0]["owner_reachable"] is True
    assert audit[0]["problems"] == ["ownership.receiver_failing", "evaluation.stale"]
    sent = [(r, sorted(checks)) for k, r, s, checks in outbox(store) if not k.startswith("old-")]
    assert sorted(sent) == [  # the owner's route, one group per check; not the admins: mail works
        ("hook", ["evaluation.stale"]),
        ("hook", ["ownership.receiver_failing"]),
        ("mail", ["evaluation.stale"]),
        ("mail", ["ownership.receiver_failing"]),
    ]


def test_a_backfilled_window_waits_from_when_its_data_arrived(store: Store) -> None:
    Registry(store).create_model(
        Actor.operator(), ModelSpec(name="churn", team="growth", owner_email="a@b.c")
    )
    now = datetime.now(UTC)
    with store.session() as session:
        model_id = session.scalar(select(Model.id))
        add_window(session, model_id, now - 48 * HOUR, 100, status="open")  # last week's traffic...
        session.execute(update(Batch).values(received_at=now - timedelta(minutes=10)))  # ...sent just now
    with store.session() as session:
        (health,) = [o.health for o in ownership(session, now=now)]
    assert health.oldest_unevaluated_close == now - timedelta(minutes=10)
    assert (
        audit_rows(ownership_of(store, now + timedelta(minutes=30)), now + timedelta(minutes=30))[0][
            "problems"
        ]
        == []
    )
    late = now + timedelta(minutes=51)
    assert audit_rows(ownership_of(store, late), late)[0]["problems"] == ["evaluation.stale"]


def ownership_of(store: Store, now: datetime):
    with store.session() as session:
        return ownership(session, now=now)
