"""A window's evaluation never skips a batch for good, whatever order concurrent batches commit in.

Partial profile ids come from a PostgreSQL sequence in insertion order, not commit order: a batch can hold an
uncommitted id lower than one already visible. An evaluation that read the visible profiles and counted
every id up to the newest as seen would skip that batch for good (its id is below the window's
``evaluated_upto``, so it is never news). A batch takes a share lock on its windows before its profiles draw
their ids, and a claim waits for it (:func:`mlwarden.server.windows.claim`). SQLite commits one write
transaction at a time, so ids are drawn in commit order there: this is PostgreSQL's case only.
"""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from postgres import fresh_postgres
from service_data import parquet_bytes, past_window, records, reference_frame
from sqlalchemy import select

from mlwarden.registry import create_token
from mlwarden.server import create_app, ingest
from mlwarden.server.windows import due_windows, evaluate_due
from mlwarden.store import Store
from mlwarden.store.schema import Window


@pytest.fixture
def pg_store():
    store = Store(fresh_postgres())
    yield store
    store.dispose()


def test_a_batch_committing_after_a_later_one_is_evaluated_not_skipped(pg_store: Store, monkeypatch) -> None:
    store = pg_store
    token = create_token(store, team="growth", name="admin", scopes=["admin"])
    entered, release = threading.Event(), threading.Event()
    original = ingest.insert_predictions

    calls: list[int] = []

    def held(connection, table) -> None:  # batch a stops inside its transaction, its profile's id drawn
        calls.append(len(table))
        if len(calls) == 2:  # batch 0, then batch a
            entered.set()
            assert release.wait(60)
        original(connection, table)

    monkeypatch.setattr(ingest, "insert_predictions", held)
    with TestClient(create_app(store, evaluate_every=None)) as api:
        api.headers["Authorization"] = f"Bearer {token}"
        api.post("/v1/models", json={"name": "churn"}).raise_for_status()
        api.post(
            "/v1/models/churn/reference",
            content=parquet_bytes(reference_frame(1_000, seed=0)),
            headers={"Content-Type": "application/vnd.apache.parquet"},
        ).raise_for_status()

        def send(name: str, seed: int) -> None:
            sent = records(reference_frame(300, seed=seed), past_window(2), prefix=name)
            api.post("/v1/models/churn/batches", json={"batch_id": name, "records": sent}).raise_for_status()

        send("0", 0)  # the window exists (a batch creating it would hold back the others until it commits)
        first = threading.Thread(target=send, args=("a", 1))
        first.start()
        assert entered.wait(60)
        send("b", 2)  # the same window, a higher id, committed first
        evaluator = threading.Thread(target=evaluate_due, args=(store,))
        evaluator.start()
        time.sleep(1.0)  # time enough to read the window without batch a, were the claim not waiting for it
        release.set()
        first.join(60)
        evaluator.join(60)
        evaluate_due(store)  # whatever is still due

    with store.session() as session:
        [window] = session.scalars(select(Window)).all()
    assert window.summary["rows"] == 900 and window.summary["evaluated"]  # every batch
    assert due_windows(store) == []
