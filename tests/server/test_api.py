"""The HTTP API end to end on a real store (SQLite file and PostgreSQL), through FastAPI's test client."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc
import pytest
from fastapi.testclient import TestClient
from service_data import parquet_bytes, past_window, records, reference_frame

from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.server.windows import evaluate_due
from mlwarden.store import Store


@pytest.fixture
def api(store: Store):
    app = create_app(store, evaluate_every=None, max_body=2_000_000)
    with TestClient(app) as client:
        admin = create_token(store, team="growth", name="admin", scopes=["admin"])
        client.headers["Authorization"] = f"Bearer {admin}"
        response = client.post(
            "/v1/models",
            json={
                "name": "churn",
                "owner_name": "Ada",
                "owner_email": "ada@example.com",
                "slos": {"roc_auc": 0.7},
            },
        )
        assert response.status_code == 201, response.text
        yield client


def upload_reference(api: TestClient, frame=None) -> dict:
    frame = reference_frame() if frame is None else frame
    response = api.post(
        "/v1/models/churn/reference",
        content=parquet_bytes(frame),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_health_openapi_and_reference(api: TestClient) -> None:
    assert api.get("/healthz").json()["status"] == "ok"
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/v1/models", "/v1/models/{name}/batches", "/v1/models/{name}/labels"} <= set(paths)
    ref = upload_reference(api)
    assert ref["rows"] == 4_000 and ref["labelled_rows"] == 4_000
    assert "label" not in ref["columns"] and "x1" in ref["columns"]


def test_batches_are_idempotent_and_validated(api: TestClient) -> None:
    upload_reference(api)
    body = {"batch_id": "b-1", "records": records(reference_frame(200, seed=1), past_window(), prefix="b1")}
    first = api.post("/v1/models/churn/batches", json=body)
    assert first.status_code == 200 and first.json()["duplicate"] is False and first.json()["rows"] == 200
    again = api.post("/v1/models/churn/batches", json=body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    metrics = api.get("/metrics").text
    assert 'mlwarden_ingested_rows_total{kind="predictions",model="churn",team="growth"} 200.0' in metrics
    assert 'outcome="duplicate"' in metrics

    bad = api.post("/v1/models/churn/batches", json={"batch_id": "b-2", "records": [{"features": [1, 2]}]})
    assert bad.status_code == 422 and "records[0].features" in bad.json()["detail"]
    bad_score = api.post(
        "/v1/models/churn/batches",
        json={"batch_id": "b-3", "records": [{"features": {"x1": 1}, "score": "high"}]},
    )
    assert bad_score.status_code == 422 and "records[0].score" in bad_score.json()["detail"]
    no_id = api.post("/v1/models/churn/batches", json={"records": [{"features": {"x1": 1}}]})
    assert no_id.status_code == 422 and "batch_id" in no_id.json()["detail"]
    assert api.post("/v1/models/nope/batches", json=body).status_code == 404
    huge = {"batch_id": "big", "records": [{"features": {"x": "y" * 1000}}] * 3000}
    assert api.post("/v1/models/churn/batches", json=huge).status_code == 413
    wrong_type = api.post("/v1/models/churn/batches", content=b"x", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 422 and "Content-Type" in wrong_type.json()["detail"]
    json_type = {"Content-Type": "application/json"}
    garbage = api.post("/v1/models/churn/batches", content=b'{"batch_id": "g", "rec', headers=json_type)
    assert garbage.status_code == 422 and "not valid JSON" in garbage.json()["detail"]
    nan = b'{"batch_id": "nan-1", "records": [{"features": {"x1": NaN}}, {"features": {"x1": 1.5}}]}'
    lenient = api.post("/v1/models/churn/batches", content=nan, headers=json_type)  # NaN literal: missing
    assert lenient.status_code == 200 and lenient.json()["rows"] == 2, lenient.text


def test_arrow_and_parquet_bodies(api: TestClient) -> None:
    upload_reference(api)
    frame = reference_frame(300, seed=2).drop(columns="label")
    frame["id"] = [f"a{i}" for i in range(len(frame))]
    frame["timestamp"] = past_window()
    sink = io.BytesIO()
    table = pa.Table.from_pandas(frame)
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    arrow = api.post(
        "/v1/models/churn/batches?batch_id=arrow-1",
        content=sink.getvalue(),
        headers={"Content-Type": "application/vnd.apache.arrow.stream"},
    )
    assert arrow.status_code == 200 and arrow.json()["rows"] == 300, arrow.text
    parquet = api.post(
        "/v1/models/churn/batches?batch_id=pq-1",
        content=parquet_bytes(frame),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert parquet.status_code == 200 and parquet.json()["duplicate"] is False
    missing_id = api.post(
        "/v1/models/churn/batches",
        content=parquet_bytes(frame),
        headers={"Content-Type": "application/parquet"},
    )
    assert missing_id.status_code == 422 and "batch_id" in missing_id.json()["detail"]
    garbage = api.post(
        "/v1/models/churn/batches?batch_id=g",
        content=b"not parquet",
        headers={"Content-Type": "application/parquet"},
    )
    assert garbage.status_code == 422


def test_window_closes_with_drift_findings_alerts_and_metrics(api: TestClient, store: Store) -> None:
    upload_reference(api)
    start = past_window()
    current = reference_frame(2_000, seed=3)
    current["x1"] += 0.8  # a feature drifted
    for i in range(4):
        chunk = current.iloc[i * 500 : (i + 1) * 500]
        body = {"batch_id": f"w-{i}", "records": records(chunk, start, prefix=f"w{i}", spacing=1)}
        assert api.post("/v1/models/churn/batches", json=body).status_code == 200
    assert api.post("/v1/evaluate").json() == {"evaluated": 1}
    assert api.post("/v1/evaluate").json() == {"evaluated": 0}  # evaluated windows stay evaluated

    findings = api.get("/v1/models/churn/findings", params={"check": "drift"}).json()
    drifted = {f["column"] for f in findings if f["check"] == "drift"}
    assert "x1" in drifted and not drifted & {"x2", "x3", "plan"}
    assert all(f["window_start"].startswith(start.isoformat()[:13]) for f in findings)
    critical = api.get("/v1/models/churn/findings", params={"severity": "critical"}).json()
    assert all(f["severity"] == "critical" for f in critical)
    windows = api.get("/v1/models/churn/windows").json()
    assert windows[0]["status"] == "evaluated" and windows[0]["summary"]["rows"] == 2_000
    assert "x1" in windows[0]["summary"]["drifted_columns"]

    alerts = api.get("/v1/alerts").json()
    assert any(a["check"] == "drift" and a["column"] == "x1" and a["model"] == "churn" for a in alerts)
    metrics = api.get("/metrics").text
    x1 = next(line for line in metrics.splitlines() if line.startswith('mlwarden_drift_score{column="x1"'))
    assert float(x1.split()[-1]) > 0.3
    assert "mlwarden_open_alerts" in metrics  # service-wide latencies are for the all-teams scrape only
    assert "mlwarden_request_duration_seconds_bucket" not in metrics

    # late data re-opens the window: it is evaluated again and its findings replaced, not duplicated
    late = {"batch_id": "late", "records": records(reference_frame(100, seed=4), start, prefix="late")}
    api.post("/v1/models/churn/batches", json=late)
    assert evaluate_due(store) == 1
    again = api.get("/v1/models/churn/findings", params={"check": "drift"}).json()
    assert sorted(f["column"] for f in again) == sorted(f["column"] for f in findings)


def test_windows_roll_up_into_any_range(api: TestClient) -> None:
    from mlwarden.profile import DatasetProfile

    upload_reference(api)
    for hours, seed in ((5, 10), (4, 11), (3, 12)):
        frame = reference_frame(700, seed=seed)
        body = {"batch_id": f"h{hours}", "records": records(frame, past_window(hours), prefix=f"h{hours}")}
        api.post("/v1/models/churn/batches", json=body)
    day = DatasetProfile.from_bytes(api.get("/v1/models/churn/profile").content)
    assert day.rows == 2_100 and day["x1"].count == 2_100
    two = api.get("/v1/models/churn/profile", params={"since": past_window(4).isoformat()})
    assert DatasetProfile.from_bytes(two.content).rows == 1_400
    empty = api.get("/v1/models/churn/profile", params={"since": past_window(-5).isoformat()})
    assert empty.status_code == 404


def test_labels_join_for_realized_performance(api: TestClient) -> None:
    upload_reference(api)
    start = past_window()
    current = reference_frame(1_500, seed=5)
    body = {"batch_id": "p", "records": records(current, start, prefix="p")}
    api.post("/v1/models/churn/batches", json=body)
    labels = [{"id": f"p-{i}", "label": int(y)} for i, y in enumerate(current["label"])]
    response = api.post("/v1/models/churn/labels", json={"batch_id": "l-1", "labels": labels})
    assert response.status_code == 200 and response.json()["rows"] == 1_500
    assert api.post("/v1/models/churn/labels", json={"batch_id": "l-1", "labels": labels}).json()["duplicate"]
    bad = api.post("/v1/models/churn/labels", json={"batch_id": "l-2", "labels": [{"label": 1}]})
    assert bad.status_code == 422 and "id" in str(bad.json()["detail"])
    api.post("/v1/evaluate")
    summary = api.get("/v1/models/churn/windows").json()[0]["summary"]
    realized, estimated = summary["performance"]["realized"], summary["performance"]["estimated"]
    assert summary["labelled"] == 1_500
    assert realized["n"] == 1_500 and abs(realized["roc_auc"] - estimated["roc_auc"]) < 0.05


def test_auth_scopes_and_team_isolation(api: TestClient, store: Store) -> None:
    anonymous = TestClient(api.app)
    assert anonymous.get("/v1/models").status_code == 401
    reader = create_token(store, team="growth", name="r", scopes=["read"])
    other = create_token(store, team="risk", name="o", scopes=["admin"])
    as_reader = {"Authorization": f"Bearer {reader}"}
    as_other = {"Authorization": f"Bearer {other}"}
    assert anonymous.get("/v1/models/churn", headers=as_reader).status_code == 200
    body = {"batch_id": "x", "records": [{"features": {"x1": 1.0}}]}
    assert anonymous.post("/v1/models/churn/batches", json=body, headers=as_reader).status_code == 403
    assert anonymous.get("/v1/models/churn", headers=as_other).status_code == 404
    assert anonymous.get("/v1/models", headers=as_other).json() == []
    assert anonymous.post("/v1/models/churn/batches", json=body, headers=as_other).status_code == 404
    assert anonymous.get("/v1/models/churn/findings", headers=as_other).status_code == 404
    assert anonymous.get("/v1/models", headers={"Authorization": "Bearer mlw_forged"}).status_code == 401


@pytest.mark.parametrize(
    ("breakage", "check", "column"),
    [
        ("constant_output", "output.constant_prediction", "prediction"),
        ("stuck_scores", "output.score_stuck", "score"),
        ("zero_feature", "quality.collapse", "x1"),
    ],
)
def test_silently_broken_model_caught_on_first_window(
    api: TestClient, breakage: str, check: str, column: str
) -> None:
    upload_reference(api)
    current = reference_frame(1_000, seed=6)
    if breakage == "constant_output":
        current["prediction"], current["score"] = 0, 0.2
    elif breakage == "stuck_scores":
        current["score"] = 0.5
    else:
        current["x1"] = 0.0
    api.post(
        "/v1/models/churn/batches",
        json={"batch_id": "1", "records": records(current, past_window(), prefix="c")},
    )
    api.post("/v1/evaluate")
    critical = api.get("/v1/models/churn/findings", params={"severity": "critical"}).json()
    assert any(f["column"] == column and f["check"].startswith(check.split(".")[0]) for f in critical), (
        critical
    )
    assert np.isfinite([f["value"] for f in critical if f["value"] is not None]).all()


def test_contract_findings_land_in_the_window_of_the_offending_rows(api: TestClient) -> None:
    upload_reference(api)
    first, second = past_window(4), past_window(3)
    clean = records(reference_frame(200, seed=13), first, prefix="a")
    odd = records(reference_frame(200, seed=14), second, prefix="b")
    for record in odd:
        record["features"]["plan"] = "enterprise"  # a category the contract does not allow
    assert (
        api.post("/v1/models/churn/batches", json={"batch_id": "span", "records": clean + odd}).status_code
        == 200
    )
    found = api.get("/v1/models/churn/findings", params={"check": "contract."}).json()
    assert found and {f["window_start"][:13] for f in found} == {second.isoformat()[:13]}
    assert {f["column"] for f in found} == {"plan"}


def test_multipart_reference_upload_and_training_profile(api: TestClient, tmp_path) -> None:
    from mlwarden.profile import profile

    frame = reference_frame()
    csv = frame.to_csv(index=False).encode()
    response = api.post("/v1/models/churn/reference", files={"file": ("reference.csv", csv, "text/plain")})
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 4_000 and response.json()["labelled_rows"] == 4_000
    assert api.post("/v1/models/churn/reference", files={"other": ("x.csv", csv)}).status_code == 422

    api.post("/v1/models/churn/versions", json={"version": "v1", "stage": "champion"}).raise_for_status()
    blob = profile(frame.drop(columns="label")).to_bytes()
    put = api.put(
        "/v1/models/churn/versions/v1/training-profile",
        files={"file": ("train.mlwprof", blob, "application/octet-stream")},
    )
    assert put.status_code == 200 and put.json()["has_training_profile"] is True
    assert api.put("/v1/models/churn/versions/v9/training-profile", content=blob).status_code == 404
    shown = api.get("/v1/models/churn").json()["versions"][0]
    assert shown["has_training_profile"] is True


def test_prediction_timestamps_are_stored_as_the_instants_sent(api: TestClient, store: Store) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from mlwarden.store.schema import Prediction

    upload_reference(api)
    frame = reference_frame(2, seed=3).drop(columns="label")
    sent = [
        {"id": f"tz{i}", "timestamp": stamp, "features": {"x1": float(frame["x1"][i])}, "prediction": 1}
        for i, stamp in enumerate(["2026-03-01T10:00:00.123456+02:00", "2026-03-01T08:00:00Z"])
    ]
    response = api.post("/v1/models/churn/batches", json={"batch_id": "tz", "records": sent})
    assert response.status_code == 200, response.text
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(Prediction.prediction_id, Prediction.ts).order_by(Prediction.id)
        ).all()
    assert [(i, ts.astimezone(UTC)) for i, ts in rows] == [
        ("tz0", datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)),
        ("tz1", datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)),
    ]


def test_windows_are_checked_for_skew_against_the_champions_training_profile(api: TestClient) -> None:
    from mlwarden.profile import profile

    upload_reference(api)
    api.post("/v1/models/churn/versions", json={"version": "v1", "stage": "champion"}).raise_for_status()
    training = reference_frame(6_000, seed=7)
    honest = profile(training.drop(columns=["label", "prediction", "score"])).to_bytes()
    put = api.put("/v1/models/churn/versions/v1/training-profile", content=honest)
    assert put.status_code == 200, put.text
    start = past_window()
    serving = reference_frame(2_000, seed=8)
    body = {"batch_id": "s-1", "records": records(serving, start, prefix="s1", spacing=1)}
    assert api.post("/v1/models/churn/batches", json=body).status_code == 200
    assert api.post("/v1/evaluate").json() == {"evaluated": 1}
    assert not [f for f in api.get("/v1/models/churn/findings").json() if f["check"].startswith("skew")]

    # training computed x2 differently (+0.15 sd); serving matches the reference, so only skew can see it
    training["x2"] = training["x2"] + 0.15 * training["x2"].std()
    skewed = parquet_bytes(training)  # raw data this time: profiled on the reference's edges, as windows are
    parquet = {"Content-Type": "application/vnd.apache.parquet"}
    put = api.put("/v1/models/churn/versions/v1/training-profile", content=skewed, headers=parquet)
    assert put.status_code == 200, put.text
    late = {"batch_id": "s-2", "records": records(reference_frame(200, seed=9), start, prefix="s2")}
    assert api.post("/v1/models/churn/batches", json=late).status_code == 200
    assert api.post("/v1/evaluate").json() == {"evaluated": 1}
    found = api.get("/v1/models/churn/findings").json()
    assert {f["column"] for f in found if f["check"] == "skew"} == {"x2"}
    assert not {f["column"] for f in found if f["check"] == "drift"} & {"x2"}


def test_integer_predictions_with_a_missing_value_are_stored_as_integer_labels(
    api: TestClient, store: Store
) -> None:
    """An Arrow body's int column with a null arrives as floats: the stored label must still read "1"."""
    from sqlalchemy import select

    from mlwarden.store.schema import Prediction

    upload_reference(api)
    body = io.BytesIO()
    table = pa.table({"id": ["p0", "p1"], "x1": [0.5, 1.5], "prediction": pa.array([1, None], pa.int64())})
    with pyarrow.ipc.new_stream(body, table.schema) as writer:
        writer.write_table(table)
    response = api.post(
        "/v1/models/churn/batches?batch_id=ints",
        content=body.getvalue(),
        headers={"Content-Type": "application/vnd.apache.arrow.stream"},
    )
    assert response.status_code == 200, response.text
    with store.engine.connect() as connection:
        stored = connection.execute(select(Prediction.prediction).order_by(Prediction.id)).scalars().all()
    assert stored == ["1", None]


def test_a_csv_reference_reads_iso_dates_as_timestamps_as_mlwarden_check_does(
    api: TestClient, store: Store
) -> None:
    from sqlalchemy import select

    from mlwarden.profile import DatasetProfile
    from mlwarden.store.schema import Reference, StoredFinding

    frame = reference_frame(1_000)
    frame["signup"] = pd.date_range("2026-01-01", periods=1_000, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    response = api.post(
        "/v1/models/churn/reference",
        content=frame.to_csv(index=False).encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    with store.session() as session:
        stored = DatasetProfile.from_bytes(session.scalars(select(Reference.profile)).one())
    assert stored.columns["signup"].kind == "datetime"
    # batches send the same text: read as the reference's timestamps, not a type change
    current = reference_frame(300, seed=1).assign(signup=frame["signup"][:300].to_numpy())
    sent = records(current, past_window(), prefix="d")
    for record, signup in zip(sent, current["signup"], strict=True):
        record["features"]["signup"] = signup
    body = {"batch_id": "dates", "records": sent}
    api.post("/v1/models/churn/batches", json=body).raise_for_status()
    assert evaluate_due(store) == 1
    with store.session() as session:
        checks = session.scalars(select(StoredFinding.check).where(StoredFinding.column == "signup")).all()
    assert [c for c in checks if c.startswith(("data.", "quality.", "contract."))] == []
