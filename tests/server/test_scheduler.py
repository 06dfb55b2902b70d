"""The window scheduler: it knows when the next window closes and wakes for it, however long its interval
(SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from service_data import reference_frame
from sqlalchemy import select

from mlwarden.registry import Actor, ModelSpec, Registry, model_mapping
from mlwarden.server import batches
from mlwarden.server.ingest import ingest_predictions
from mlwarden.server.reference import store_reference
from mlwarden.server.windows import Scheduler, due_windows, next_due
from mlwarden.store import Store
from mlwarden.store.schema import Model, Window


def model_with_batch(store: Store, name: str, grace: int, at: datetime) -> Model:
    """A model with a reference and 200 rows timed ``at`` (one-minute windows, ``grace`` seconds)."""
    spec = ModelSpec(name=name, team="growth", window_seconds=60, grace_seconds=grace)
    Registry(store).create_model(Actor.operator(), spec)
    with store.session() as session:
        model = session.scalar(select(Model).where(Model.name == name))
    store_reference(store, model, reference_frame(1_000))
    frame = reference_frame(200, seed=3).drop(columns="label")
    frame["timestamp"] = at
    ingest_predictions(store, model, batches.from_frame(frame, model_mapping(model), "b1"), None)
    return model


def window_end(store: Store, model: Model) -> datetime:
    with store.session() as session:
        return session.scalar(select(Window.end).where(Window.model_id == model.id))


def test_next_due_is_the_earliest_close_still_to_come(store: Store) -> None:
    now = datetime.now(UTC)
    closed = model_with_batch(store, "closed", 0, now - timedelta(minutes=5))
    soon = model_with_batch(store, "soon", 600, now - timedelta(minutes=2))
    later = model_with_batch(store, "later", 3_600, now - timedelta(minutes=2))
    assert [m for m, _ in due_windows(store, now)] == [closed.id]  # due already: not "next"
    assert next_due(store, now) == window_end(store, soon) + timedelta(seconds=600)
    assert next_due(store, window_end(store, later) + timedelta(seconds=3_599)) == window_end(
        store, later
    ) + timedelta(seconds=3_600)
    assert next_due(store, now + timedelta(hours=2)) is None  # every window is due by then


def test_the_scheduler_wakes_when_a_window_closes_not_at_its_interval(store: Store) -> None:
    model = model_with_batch(store, "churn", 0, datetime.now(UTC) - timedelta(minutes=1))
    end = window_end(store, model)
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    with store.session() as session:  # the window is due 5 s from now
        session.get(Model, model.id).grace_seconds = round((due - end).total_seconds())
    scheduler = Scheduler(store, interval=600)  # its timer alone would look again in 10 minutes
    scheduler.start()
    try:
        deadline = time.monotonic() + 120
        evaluated = None
        while evaluated is None and time.monotonic() < deadline:
            time.sleep(0.1)
            with store.session() as session:
                evaluated = session.scalar(select(Window.evaluated_at).where(Window.model_id == model.id))
    finally:
        scheduler.stop()
    assert evaluated is not None and evaluated >= due
