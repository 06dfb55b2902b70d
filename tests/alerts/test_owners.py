"""The owners audit read from a real store (SQLite file and PostgreSQL): one row per model, least healthy
first, with what hygiene finds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mlwarden.alerts.hygiene import Limits
from mlwarden.alerts.owners import audit_rows, model_health
from mlwarden.registry import Actor, ModelSpec, Registry
from mlwarden.store import Store
from mlwarden.store.schema import Batch, Model, PartialProfile, Window

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
        healths = {h.model: h for h in model_health(session, now=NOW)}
        growth = [
            h.model for h in model_health(session, team_id=session.get(Model, ids["churn"]).team_id, now=NOW)
        ]
    assert growth == ["churn", "orphan"]
    churn = healths["churn"]
    assert churn.window_rows == [*(1_000 + 10 * (i % 3) for i in range(12, 2, -1)), 100]
    assert churn.last_batch == NOW - 2 * HOUR and churn.last_label == NOW - 72 * HOUR
    assert churn.last_evaluation == NOW - HOUR + timedelta(minutes=2)
    assert churn.oldest_unevaluated_close is None
    assert healths["fraud"].oldest_unevaluated_close == NOW - 4 * HOUR + timedelta(seconds=60)
    rows = audit_rows(list(healths.values()), Limits(), NOW)
    assert [(r["model"], r["problems"]) for r in rows] == [
        ("fraud", ["evaluation.stale"]),
        ("orphan", ["ownership.no_owner"]),
        ("churn", ["traffic.volume", "labels.overdue"]),
    ]
    assert rows[1]["owner_reachable"] is False and rows[2]["owner_reachable"] is True
    assert rows[2]["last_label"] == (NOW - 72 * HOUR).isoformat()
