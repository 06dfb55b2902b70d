"""A window's evaluation reads that window's predictions and their own labels, whatever the model's history
(issue 15): the query plan uses the window and latest-label indexes on both backends, the latest label of a
prediction wins, and PostgreSQL's planner statistics are refreshed after bulk loads."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from service_data import parquet_bytes, past_window, records, reference_frame
from sqlalchemy import Select, insert, select, text

from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.server.windows import outputs_query
from mlwarden.store import Store
from mlwarden.store.schema import Label, Model, Prediction, Window
from mlwarden.store.statistics import STALE_ROWS, refresh_statistics


@pytest.fixture
def api(store: Store):
    with TestClient(create_app(store, evaluate_every=None)) as client:
        token = create_token(store, team="growth", name="admin", scopes=["admin"])
        client.headers["Authorization"] = f"Bearer {token}"
        client.post("/v1/models", json={"name": "churn"}).raise_for_status()
        client.post(
            "/v1/models/churn/reference",
            content=parquet_bytes(reference_frame(1_000)),
            headers={"Content-Type": "application/vnd.apache.parquet"},
        ).raise_for_status()
        yield client


def _history(store: Store, model_id: int, rows: int) -> None:
    """``rows`` labelled predictions a day before the window under test."""
    day_before = past_window() - timedelta(days=1)
    ids = [f"old-{i}" for i in range(rows)]
    with store.engine.begin() as connection:
        connection.execute(
            insert(Prediction),
            [{"model_id": model_id, "batch_pk": 0, "prediction_id": i, "ts": day_before} for i in ids],
        )
        connection.execute(
            insert(Label),
            [{"model_id": model_id, "batch_pk": 0, "prediction_id": i, "label": "1"} for i in ids],
        )


def _plan(store: Store, window: Window, model_id: int) -> str:
    sql = str(window_query(model_id, window).compile(store.engine, compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN QUERY PLAN " if store.backend == "sqlite" else "EXPLAIN (FORMAT JSON) "
    with store.engine.connect() as connection:
        rows = connection.execute(text(explain + sql)).all()
    return json.dumps([list(map(str, row)) for row in rows])


def test_a_windows_label_join_reads_only_its_predictions_through_indexes(
    api: TestClient, store: Store
) -> None:
    start = past_window()
    body = {"batch_id": "b", "records": records(reference_frame(200, seed=1), start, prefix="p")}
    api.post("/v1/models/churn/batches", json=body).raise_for_status()
    with store.session() as session:
        model_id = session.scalar(select(Model.id))
        window = session.scalar(select(Window))
    _history(store, model_id, 5_000)
    refresh_statistics(store)
    plan = _plan(store, window, model_id)
    assert "ix_predictions_time" in plan and "ix_labels_latest" in plan, plan
    assert "Seq Scan" not in plan and "SCAN labels" not in plan and "SCAN predictions" not in plan, plan
    with store.session() as session:
        assert len(session.execute(window_query(model_id, window)).all()) == 200  # none of the history


def test_the_latest_label_of_a_prediction_wins(api: TestClient) -> None:
    frame = reference_frame(400, seed=2)
    api.post(
        "/v1/models/churn/batches",
        json={"batch_id": "b", "records": records(frame, past_window(), prefix="p")},
    ).raise_for_status()
    wrong = [{"id": f"p-{i}", "label": int(1 - y)} for i, y in enumerate(frame["label"])]
    right = [{"id": f"p-{i}", "label": int(y)} for i, y in enumerate(frame["label"])]
    for batch_id, labels in (("wrong", wrong), ("corrected", right)):
        api.post("/v1/models/churn/labels", json={"batch_id": batch_id, "labels": labels}).raise_for_status()
    api.post("/v1/evaluate").raise_for_status()
    summary = api.get("/v1/models/churn/windows").json()[0]["summary"]
    realized = summary["performance"]["realized"]
    assert summary["labelled"] == 400 and realized["n"] == 400
    accuracy = float(((frame["score"] > 0.5).astype(int) == frame["label"]).mean())
    assert realized["accuracy"] == pytest.approx(accuracy)


def test_statistics_are_refreshed_once_a_bulk_load_makes_them_stale(api: TestClient, store: Store) -> None:
    with store.session() as session:
        model_id = session.scalar(select(Model.id))
    if store.backend == "sqlite":  # its planner takes the indexes without statistics
        _history(store, model_id, STALE_ROWS + 1)
        assert refresh_statistics(store) == []
        return
    with store.engine.begin() as connection:
        connection.execute(text("ANALYZE predictions; ANALYZE labels"))
    _history(store, model_id, STALE_ROWS // 2)
    store.engine.dispose()  # a backend publishes its table change counts when it ends
    assert refresh_statistics(store) == []  # 5,000 changed rows: not stale yet
    _history(store, model_id, STALE_ROWS)
    store.engine.dispose()
    assert sorted(refresh_statistics(store)) == ["labels", "predictions"]
    assert refresh_statistics(store) == []


def window_query(model_id: int, window: Window) -> Select:
    """A window's predictions with their labels: the evaluator's query for a model without shadow versions."""
    return outputs_query(model_id, window.start, window.end, served_only=False)
