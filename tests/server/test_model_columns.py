"""The per-model column limit: the distinct columns of all of a model's batches and references are bounded
(``MLWARDEN_MAX_MODEL_COLUMNS``), beside the per-batch limit; a batch that would pass it is refused whole at
once (422 naming the counts and the setting) and other models are not affected. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from service_data import parquet_bytes, past_window, records, reference_frame
from sqlalchemy import func, select

from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.store import Store
from mlwarden.store.schema import Batch, ModelColumn


@pytest.fixture
def api(store: Store):
    with TestClient(create_app(store, evaluate_every=None)) as client:
        token = create_token(store, team="growth", name="admin", scopes=["admin"])
        client.headers["Authorization"] = f"Bearer {token}"
        for name in ("churn", "fraud"):
            client.post("/v1/models", json={"name": name}).raise_for_status()
        yield client


def _batch(batch_id: str, extra: dict[str, float]) -> dict:
    body = {
        "batch_id": batch_id,
        "records": records(reference_frame(5, seed=1), past_window(), prefix=batch_id),
    }
    for record in body["records"]:
        record["features"].update(extra)
    return body


def _count(store: Store, table, **where) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(getattr(table, column) == value)
    with store.session() as session:
        return session.scalar(query)


def test_a_models_distinct_columns_are_limited(
    api: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLWARDEN_MAX_MODEL_COLUMNS", "12")
    reference = api.post(
        "/v1/models/churn/reference",
        content=parquet_bytes(reference_frame(200)),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert reference.status_code == 201, reference.text
    assert _count(store, ModelColumn) == 6  # x1 x2 x3 plan prediction score (the label is not profiled)
    assert api.post("/v1/models/churn/batches", json=_batch("known", {})).status_code == 200
    six_more = {f"f{i}": 1.0 for i in range(6)}
    assert api.post("/v1/models/churn/batches", json=_batch("twelve", six_more)).status_code == 200
    assert _count(store, ModelColumn) == 12

    refused = api.post("/v1/models/churn/batches", json=_batch("thirteen", {**six_more, "g": 2.0}))
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "columns: model 'churn' would have 13 distinct columns, at most 12 per model (send the columns it "
        "has, split the features over several models, or raise MLWARDEN_MAX_MODEL_COLUMNS)"
    )
    assert _count(store, ModelColumn) == 12 and _count(store, Batch, batch_id="thirteen") == 0
    assert api.post("/v1/models/churn/batches", json=_batch("again", six_more)).status_code == 200

    other = {f"h{i}": 1.0 for i in range(6)}  # another model counts its own columns
    assert api.post("/v1/models/fraud/batches", json=_batch("fraud", other)).status_code == 200
    wide = api.post(
        "/v1/models/fraud/reference",
        content=parquet_bytes(reference_frame(200).assign(**{f"r{i}": 1.0 for i in range(10)})),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert wide.status_code == 422 and "at most 12 per model" in wide.json()["detail"]


def test_the_per_model_limit_setting_must_be_a_positive_integer(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLWARDEN_MAX_MODEL_COLUMNS", "lots")
    answer = api.post("/v1/models/churn/batches", json=_batch("b", {}))
    assert answer.status_code == 422
    assert answer.json()["detail"] == "MLWARDEN_MAX_MODEL_COLUMNS: expected a positive integer, got 'lots'"
