"""Bad and hostile request bodies on a real store (SQLite file and PostgreSQL): each answers 4xx with one
line naming the field, stores nothing, and leaves the service working; a repeated batch_id is a duplicate
only when its rows are the same (409 otherwise); a batch must hold something to monitor; columns are
limited per batch."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.ipc
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from service_data import parquet_bytes, past_window, records, reference_frame

from mlwarden.client.batch import Batch as ClientBatch
from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.store import Store
from mlwarden.store.schema import Batch, Label, Prediction

JSON = {"Content-Type": "application/json"}
ARROW = {"Content-Type": "application/vnd.apache.arrow.stream"}
PARQUET = {"Content-Type": "application/vnd.apache.parquet"}


@pytest.fixture
def api(store: Store):
    app = create_app(store, evaluate_every=None, max_body=4_000_000)
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = create_token(store, team="growth", name="admin", scopes=["admin"])
        client.headers["Authorization"] = f"Bearer {admin}"
        for model in (
            {"name": "churn"},
            {"name": "land", "columns": {"scores": {"water": "pw", "sand": "ps"}}},
        ):
            assert client.post("/v1/models", json=model).status_code == 201
        yield client


def arrow(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def stored(store: Store, table) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def good_records(n: int = 3, prefix: str = "r", seed: int = 1) -> list[dict]:
    return records(reference_frame(n, seed=seed), past_window(), prefix=prefix)


def with_field(**changes) -> dict:
    """A one-record JSON batch whose record has ``changes`` applied."""
    return {"batch_id": "bad", "records": [good_records(1)[0] | changes]}


def bad_prediction_bodies() -> dict[str, tuple[str, dict]]:
    """name -> (field named in the answer, request kwargs) for POST /v1/models/{model}/batches."""
    end_of_time = "9999-12-31T23:30:00+00:00"
    deep = b'{"batch_id": "deep", "records": [' + b"[" * 2_000 + b"]" * 2_000 + b"]}"
    shallow_enough_to_parse = {"x1": json.loads("[" * 900 + "]" * 900)}
    corrupt_metadata = pa.table({"x1": [1.0, 2.0]}).replace_schema_metadata({b"pandas": b"{not json"})
    late_seconds = pa.table({"timestamp": pa.array([2**62], pa.timestamp("s")), "x1": [1.0]})
    return {
        "JSON nested 2,000 levels": ("body", {"content": deep, "headers": JSON}),
        "a feature nested 900 levels": (
            "records[0].features.x1",
            {"json": with_field(features=shallow_enough_to_parse)},
        ),
        "JSON timestamp in year 9999": ("timestamp", {"json": with_field(timestamp=end_of_time)}),
        "Arrow timestamp in year 9999": (
            "timestamp",
            {
                "content": arrow(pa.table({"timestamp": pa.array([pd.Timestamp(end_of_time)]), "x1": [1.0]})),
                "headers": ARROW,
                "params": {"batch_id": "late"},
            },
        ),
        "Arrow seconds past microseconds": (
            "timestamp",
            {"content": arrow(late_seconds), "headers": ARROW, "params": {"batch_id": "late-s"}},
        ),
        "prediction of 300 characters": ("prediction", {"json": with_field(prediction="p" * 300)}),
        "id of 300 characters": ("id", {"json": with_field(id="i" * 300)}),
        "fingerprint of 300 characters": ("fingerprint", {"json": with_field() | {"fingerprint": "f" * 300}}),
        "model_version of 300 characters": (
            "model_version",
            {"json": with_field() | {"model_version": "v" * 300}},
        ),
        "batch_id of 300 characters": ("batch_id", {"json": with_field() | {"batch_id": "b" * 300}}),
        "feature name of 300 characters": ("column name", {"json": with_field(features={"x" * 300: 1.0})}),
        "NUL in a prediction": ("prediction", {"json": with_field(prediction="yes\x00")}),
        "NUL in an id": ("id", {"json": with_field(id="a\x00b")}),
        "NUL in the batch_id": ("batch_id", {"json": with_field() | {"batch_id": "b\x00"}}),
        "NUL in a feature name": ("column name", {"json": with_field(features={"plan\x00": "pro"})}),
        "NUL in a feature value": ("plan", {"json": with_field(features={"plan": "pro\x00"})}),
        "prediction that is an object": ("records[0].prediction", {"json": with_field(prediction={"a": 1})}),
        "id that is an object": ("records[0].id", {"json": with_field(id={"a": 1})}),
        "corrupt pandas metadata": (
            "body",
            {"content": arrow(corrupt_metadata), "headers": ARROW, "params": {"batch_id": "meta"}},
            # read without the metadata: the rows are fine, so this one is stored (asserted below)
        ),
        "Arrow score as text": (
            "score",
            {
                "content": arrow(pa.table({"score": ["high"], "x1": [1.0]})),
                "headers": ARROW,
                "params": {"batch_id": "s"},
            },
        ),
        "duplicate Arrow column names": (
            "appears more than once",
            {
                "content": arrow(
                    pa.Table.from_arrays([pa.array([1.0]), pa.array([2.0])], names=["x1", "x1"])
                ),
                "headers": ARROW,
                "params": {"batch_id": "dup"},
            },
        ),
        "ids and timestamps only": (
            "ids and timestamps only",
            {"json": {"batch_id": "ids", "records": [{"id": "a", "timestamp": past_window().isoformat()}]}},
        ),
    }


def test_bad_prediction_bodies_answer_422_naming_the_field_and_store_nothing(
    api: TestClient, store: Store
) -> None:
    for name, (field, request) in bad_prediction_bodies().items():
        response = api.post("/v1/models/churn/batches", **request)
        if name == "corrupt pandas metadata":
            assert response.status_code == 200 and response.json()["rows"] == 2, response.text
            continue
        assert response.status_code == 422, (name, response.status_code, response.text)
        detail = response.json()["detail"]
        assert field in detail and "\n" not in detail, (name, detail)
    assert stored(store, Batch) == 1 and stored(store, Prediction) == 2  # the metadata case alone
    healthy = api.post("/v1/models/churn/batches", json={"batch_id": "ok", "records": good_records()})
    assert healthy.status_code == 200 and healthy.json()["duplicate"] is False
    assert api.get("/v1/models/churn/profile").status_code == 200  # no ids-only batch broke the merge


def test_records_layout_class_scores_must_be_numbers(api: TestClient) -> None:
    text_scores = pa.table({"score": [["high", "low"]], "features": [{"x1": 1.0}]})
    response = api.post(
        "/v1/models/land/batches",
        content=arrow(text_scores),
        headers=ARROW,
        params={"batch_id": "t", "layout": "records"},
    )
    assert response.status_code == 422 and response.json()["detail"].startswith(
        "score: expected lists of numbers"
    )
    numbers = pa.table({"score": [[0.75, 0.25]], "features": [{"x1": 1.0}]})
    ok = api.post(
        "/v1/models/land/batches",
        content=arrow(numbers),
        headers=ARROW,
        params={"batch_id": "n", "layout": "records"},
    )
    assert ok.status_code == 200, ok.text


def test_bad_label_bodies_answer_422_and_nan_is_never_a_silent_duplicate(
    api: TestClient, store: Store
) -> None:
    def labels(batch_id: str, *rows: dict) -> dict:
        return {"batch_id": batch_id, "labels": list(rows)}

    nan = b'{"batch_id": "nan", "labels": [{"id": "r-0", "label": NaN}, {"id": "r-1", "label": 1}]}'
    response = api.post("/v1/models/churn/labels", content=nan, headers=JSON)
    assert response.status_code == 422 and response.json()["detail"].startswith(
        "labels[0].label: expected a label"
    )
    cases = {
        "labels[].label": labels("long", {"id": "r-0", "label": "x" * 300}),
        "labels[].id": labels("nul-id", {"id": "r\x00", "label": 1}),
        "labels[].timestamp": labels("late", {"id": "r-0", "label": 1, "timestamp": "9999-12-31T23:30:00Z"}),
        "batch_id": labels("b\x00", {"id": "r-0", "label": 1}),
    }
    for field, body in cases.items():
        response = api.post("/v1/models/churn/labels", json=body)
        assert response.status_code == 422 and field in response.json()["detail"], (field, response.text)
    nul = api.post("/v1/models/churn/labels", json=labels("nul", {"id": "r-0", "label": "a\x00"}))
    assert nul.status_code == 422 and "NUL" in nul.json()["detail"]
    assert stored(store, Batch) == 0 and stored(store, Label) == 0
    fine = api.post("/v1/models/churn/labels", json=labels("nan", {"id": "r-1", "label": 1}))
    assert fine.status_code == 200 and fine.json() == {
        "batch_id": "nan",
        "rows": 1,
        "duplicate": False,
        "windows": [],
    }


def test_a_batch_id_names_one_batch_retries_are_duplicates_other_rows_409(
    api: TestClient, store: Store
) -> None:
    rows = good_records(4, prefix="b")
    first = api.post("/v1/models/churn/batches", json={"batch_id": "b-1", "records": rows})
    assert first.status_code == 200 and first.json()["duplicate"] is False
    # the SDK's Arrow wire carries the same rows: a retry over another wire is still the same batch
    body, content_type, params = ClientBatch("batches", "churn", rows, batch_id="b-1").request("arrow")
    assert content_type == ARROW["Content-Type"]
    again = api.post(
        "/v1/models/churn/batches", content=body, headers={"Content-Type": content_type}, params=params
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True, again.text
    changed = [dict(rows[0], score=0.5), *rows[1:]]
    conflict = api.post("/v1/models/churn/batches", json={"batch_id": "b-1", "records": changed})
    assert conflict.status_code == 409 and "b-1" in conflict.json()["detail"]
    fewer = api.post("/v1/models/churn/batches", json={"batch_id": "b-1", "records": rows[:3]})
    assert fewer.status_code == 409
    with store.engine.connect() as connection:
        scores = (
            connection.execute(sa.select(Prediction.score).order_by(Prediction.prediction_id)).scalars().all()
        )
    assert scores == [r["score"] for r in sorted(rows, key=lambda r: r["id"])]  # the first batch, untouched

    labels = [{"id": r["id"], "label": i % 2} for i, r in enumerate(rows)]
    assert (
        api.post("/v1/models/churn/labels", json={"batch_id": "l-1", "labels": labels}).json()["duplicate"]
        is False
    )
    assert (
        api.post("/v1/models/churn/labels", json={"batch_id": "l-1", "labels": labels}).json()["duplicate"]
        is True
    )
    relabelled = [dict(labels[0], label=5), *labels[1:]]
    assert (
        api.post("/v1/models/churn/labels", json={"batch_id": "l-1", "labels": relabelled}).status_code == 409
    )
    assert stored(store, Label) == 4


def test_columns_per_batch_are_limited_before_any_profiling(
    api: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    wide = {f"f{i}": float(i) for i in range(2_001)}
    default = api.post("/v1/models/churn/batches", json={"batch_id": "w", "records": [{"features": wide}]})
    assert default.status_code == 422 and "2,001 columns, at most 2,000" in default.json()["detail"]

    monkeypatch.setenv("MLWARDEN_MAX_COLUMNS", "10")
    frame = pd.DataFrame({f"f{i}": [1.0, 2.0] for i in range(11)})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    records_layout = pa.table(
        {
            "features": pa.StructArray.from_arrays(
                [c.combine_chunks() for c in table.columns], names=table.column_names
            )
        }
    )
    bodies = {
        "json": {
            "json": {
                "batch_id": "j",
                "records": frame.apply(lambda r: {"features": r.to_dict()}, axis=1).tolist(),
            }
        },
        "arrow": {"content": arrow(table), "headers": ARROW, "params": {"batch_id": "a"}},
        "arrow records": {
            "content": arrow(records_layout),
            "headers": ARROW,
            "params": {"batch_id": "r", "layout": "records"},
        },
        "parquet": {"content": parquet_bytes(frame), "headers": PARQUET, "params": {"batch_id": "p"}},
    }
    for name, request in bodies.items():
        response = api.post("/v1/models/churn/batches", **request)
        assert response.status_code == 422 and "at most 10 per batch" in response.json()["detail"], (
            name,
            response.text,
        )
    assert stored(store, Batch) == 0
    narrow = api.post(
        "/v1/models/churn/batches",
        content=parquet_bytes(frame.iloc[:, :10]),
        headers=PARQUET,
        params={"batch_id": "p10"},
    )
    assert narrow.status_code == 200 and narrow.json()["rows"] == 2


def test_a_label_body_fastapi_refuses_for_a_non_finite_value_is_a_422_not_a_500(api) -> None:
    """FastAPI's validation error quoted the offending value; ``Infinity`` has no JSON form (was a 500)."""
    body = '{"batch_id": "inf", "labels": [{"id": "a", "label": [Infinity]}]}'
    response = api.post("/v1/models/churn/labels", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "labels"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"x" * 300: [1.0, 2.0]}), "at most 200 fit"),
        (pd.DataFrame({"a\x00b": [1.0, 2.0]}), "NUL"),
        (pd.DataFrame({"plan": ["basic", "pro\x00"], "x": [1.0, 2.0]}), "plan: row 1 holds a NUL"),
    ],
)
def test_a_reference_is_held_to_the_same_text_limits_as_batches(api, frame, message) -> None:
    """Findings quote a reference's column names and categories: what a batch may not send, it may not."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    response = api.post(
        "/v1/models/churn/reference",
        content=buffer.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert response.status_code == 422 and message in response.json()["detail"]
