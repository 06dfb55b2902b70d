"""A registered model's column mapping, end to end on a real store (SQLite file and PostgreSQL).

Expected metric values come from scikit-learn, computed with the model's full class set.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from service_data import parquet_bytes, past_window, records, reference_frame
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, precision_score, roc_auc_score
from sqlalchemy import update

from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.store import Store
from mlwarden.store.schema import Model

PARQUET = {"Content-Type": "application/vnd.apache.parquet"}


@pytest.fixture
def api(store: Store):
    app = create_app(store, evaluate_every=None)
    with TestClient(app) as client:
        admin = create_token(store, team="land", name="admin", scopes=["admin"])
        client.headers["Authorization"] = f"Bearer {admin}"
        yield client


def register(api: TestClient, name: str, columns: dict) -> dict:
    response = api.post("/v1/models", json={"name": name, "columns": columns})
    assert response.status_code == 201, response.text
    return response.json()


def test_registration_takes_the_column_mapping_and_returns_it(api: TestClient) -> None:
    columns = {
        "target": "land",
        "prediction": "predicted",
        "scores": {"water": "p_water", "desert": "p_desert", "clouds": "p_clouds"},
        "id": "tile_id",
        "timestamp": "seen_at",
        "ignore": ["request_id"],
        "categorical": ["region_code"],
        "numeric": ["band_7"],
        "segments": ["country"],
        "drift": {"band_7": {"method": "psi", "threshold": 0.2}},
    }
    created = register(api, "land", columns)["columns"]
    shown = api.get("/v1/models/land").json()["columns"]
    assert shown == created
    assert list(shown["scores"].items()) == [
        ("water", "p_water"),
        ("desert", "p_desert"),
        ("clouds", "p_clouds"),
    ]
    assert shown["ignore"] == ["request_id"] and shown["categorical"] == ["region_code"]
    assert shown["drift"] == {"band_7": {"method": "psi", "threshold": 0.2}}
    assert (shown["id"], shown["timestamp"], shown["target"]) == ("tile_id", "seen_at", "land")

    defaults = register(api, "plain", {})["columns"]
    assert {k: defaults[k] for k in ("id", "timestamp", "prediction", "scores", "target")} == {
        "id": "id",
        "timestamp": "timestamp",
        "prediction": "prediction",
        "scores": "score",
        "target": "label",
    }
    old_form = register(api, "old", {"score": ["p_churn"], "target": "churned"})["columns"]
    assert old_form["scores"] == "p_churn" and old_form["target"] == "churned"
    binary = register(api, "binary", {"scores": {0: "p0", 1: "p1"}, "positive_label": 1})["columns"]
    assert binary["scores"] == {"0": "p0", "1": "p1"} and binary["positive_label"] == "1"


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"scores": []}, "columns.scores: expected at least one score column"),
        ({"score": []}, "columns.scores: expected at least one score column"),
        ({"scores": {}}, "columns.scores: expected at least one score column"),
        ({"scores": ["a", "a"]}, "columns.scores: a score column is listed twice"),
        ({"scores": {"a": "p", "b": "q"}, "positive_label": "c"}, "positive_label 'c' is not a class"),
        ({"scores": "s", "score": "t"}, "give 'scores' or its old name 'score', not both"),
        ({"id": None}, "columns.id: the service needs a column name here (default 'id')"),
        ({"colour": "x"}, "columns.colour: unknown field"),
        ({"target": "y", "prediction": "y"}, "column 'y' has two roles"),
        ({"ignore": ["score"]}, "column 'score' has a role and is also ignored"),
        ({"task": "ranking"}, "columns.task"),
    ],
)
def test_invalid_mappings_are_422_naming_the_field(api: TestClient, columns: dict, message: str) -> None:
    response = api.post("/v1/models", json={"name": "m", "columns": columns})
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert api.get("/v1/models/m").status_code == 404


def test_models_stored_by_the_first_release_are_read_as_mappings(api: TestClient, store: Store) -> None:
    """Rows written before the mapping (``score``: a list) keep working, on both backends, unmigrated."""
    register(api, "churn", {})
    old = {
        "id": "id",
        "timestamp": "timestamp",
        "prediction": "prediction",
        "score": ["score"],
        "target": "label",
    }
    with store.session() as session:
        session.execute(update(Model).where(Model.name == "churn").values(columns=old))
    shown = api.get("/v1/models/churn").json()["columns"]
    assert shown["scores"] == "score" and "score" not in shown and shown["target"] == "label"
    api.post("/v1/models/churn/reference", content=parquet_bytes(reference_frame()), headers=PARQUET)
    current = reference_frame(1_000, seed=2)
    body = {"batch_id": "b-1", "records": records(current, past_window(), prefix="p")}
    assert api.post("/v1/models/churn/batches", json=body).status_code == 200
    labels = [{"id": f"p-{i}", "label": int(y)} for i, y in enumerate(current["label"])]
    api.post("/v1/models/churn/labels", json={"batch_id": "l-1", "labels": labels}).raise_for_status()
    assert api.post("/v1/evaluate").json() == {"evaluated": 1}
    realized = api.get("/v1/models/churn/windows").json()[0]["summary"]["performance"]["realized"]
    assert realized["roc_auc"] == pytest.approx(roc_auc_score(current["label"], current["score"]), abs=1e-12)


def test_a_binary_window_of_one_class_is_scored_for_the_models_positive_class(api: TestClient) -> None:
    """Every label in the window is 0: precision is still about class 1 (sklearn's pos_label=1)."""
    register(api, "churn", {})
    api.post("/v1/models/churn/reference", content=parquet_bytes(reference_frame()), headers=PARQUET)
    current = reference_frame(2_000, seed=4)
    current = current[current["label"] == 0].reset_index(drop=True)
    body = {"batch_id": "b-1", "records": records(current, past_window(), prefix="p")}
    api.post("/v1/models/churn/batches", json=body).raise_for_status()
    labels = [{"id": f"p-{i}", "label": 0} for i in range(len(current))]
    api.post("/v1/models/churn/labels", json={"batch_id": "l-1", "labels": labels}).raise_for_status()
    api.post("/v1/evaluate").raise_for_status()
    realized = api.get("/v1/models/churn/windows").json()[0]["summary"]["performance"]["realized"]
    y, pred = current["label"], current["prediction"]
    assert realized["accuracy"] == pytest.approx(accuracy_score(y, pred), abs=1e-12)
    assert realized["precision"] == pytest.approx(precision_score(y, pred, pos_label=1), abs=1e-12)
    assert realized["precision"] == 0.0  # class 0 as "positive" would give 1.0


CLASSES = [2, 0, 1]  # the model's class order: not sorted


def land_cover(n: int, seed: int) -> pd.DataFrame:
    """Two features, three classes (labels 0, 1, 2), softmax scores per class and their arg-max."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    logits = x @ np.array([[1.5, -1.0, 0.2], [0.3, 1.2, -1.4]])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    label = np.array([rng.choice(3, p=p) for p in probs])
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "label": label, "prediction": probs.argmax(axis=1)})
    for k in range(3):
        frame[f"p{k}"] = probs[:, k]
    return frame


def multiclass_records(frame: pd.DataFrame, start, prefix: str, as_object: bool) -> list[dict]:
    out = []
    for i, row in enumerate(frame.to_dict("records")):
        by_class = {str(k): row[f"p{k}"] for k in CLASSES}
        out.append(
            {
                "id": f"{prefix}-{i}",
                "timestamp": (start + timedelta(seconds=i)).isoformat(),
                "features": {"x1": row["x1"], "x2": row["x2"]},
                "prediction": int(row["prediction"]),
                "score": by_class if as_object else list(by_class.values()),
            }
        )
    return out


def test_three_class_model_end_to_end_with_a_window_missing_a_class(api: TestClient) -> None:
    """Scores sent as {class: score} or as a list in the model's class order (2, 0, 1); a window without
    class 2 is scored as sklearn scores it with labels=[0, 1, 2], not as a binary problem."""
    register(api, "land", {"scores": {k: f"p{k}" for k in CLASSES}})
    api.post("/v1/models/land/reference", content=parquet_bytes(land_cover(3_000, seed=0)), headers=PARQUET)
    full = land_cover(900, seed=1)
    partial = land_cover(3_000, seed=2)
    partial = partial[partial["label"] != 2].reset_index(drop=True)
    first, second = past_window(3), past_window(2)
    for batch_id, frame, start, as_object in (("a", full, first, True), ("b", partial, second, False)):
        body = {"batch_id": batch_id, "records": multiclass_records(frame, start, batch_id, as_object)}
        api.post("/v1/models/land/batches", json=body).raise_for_status()
        labels = [{"id": f"{batch_id}-{i}", "label": int(y)} for i, y in enumerate(frame["label"])]
        api.post(
            "/v1/models/land/labels", json={"batch_id": f"l-{batch_id}", "labels": labels}
        ).raise_for_status()
    assert api.post("/v1/evaluate").json() == {"evaluated": 2}
    windows = {w["start"]: w["summary"] for w in api.get("/v1/models/land/windows").json()}

    realized = windows[first.isoformat()]["performance"]["realized"]
    sorted_scores = full[["p0", "p1", "p2"]].to_numpy()  # sklearn wants the columns in sorted label order
    expected_auc = roc_auc_score(full["label"], sorted_scores, multi_class="ovr", labels=[0, 1, 2])
    assert realized["roc_auc"] == pytest.approx(expected_auc, abs=1e-9)
    assert realized["accuracy"] == pytest.approx(accuracy_score(full["label"], full["prediction"]), abs=1e-12)

    realized = windows[second.isoformat()]["performance"]["realized"]
    y, pred = partial["label"], partial["prediction"]
    assert realized["accuracy"] == pytest.approx(accuracy_score(y, pred), abs=1e-12)
    p, r, f, _ = precision_recall_fscore_support(y, pred, labels=[0, 1, 2], average="macro", zero_division=0)
    assert (realized["precision"], realized["recall"], realized["f1"]) == pytest.approx((p, r, f), abs=1e-12)


def test_multiclass_scores_that_do_not_fit_the_mapping_are_422(api: TestClient) -> None:
    register(api, "land", {"scores": {"water": "p_w", "desert": "p_d", "clouds": "p_c"}})
    base = {"id": "a", "features": {"x": 1.0}}
    for score, message in [
        (0.7, "records[0].score: expected a list of 3 class scores or an object {class: score}"),
        ([0.1, 0.9], "records[0].score: expected a list of 3 class scores"),
        ({"water": 0.2, "desert": 0.8}, "got keys ['desert', 'water']"),
        ({"water": 0.2, "desert": 0.7, "snow": 0.1}, "got keys ['desert', 'snow', 'water']"),
        (["a", "b", "c"], "records[].score: expected numbers as class scores"),
    ]:
        body = {"batch_id": "b", "records": [{**base, "score": score}]}
        response = api.post("/v1/models/land/batches", json=body)
        assert response.status_code == 422 and message in response.json()["detail"], (score, response.text)
    good = {"batch_id": "b", "records": [{**base, "score": {"clouds": 0.1, "water": 0.2, "desert": 0.7}}]}
    assert api.post("/v1/models/land/batches", json=good).status_code == 200


def test_ignored_and_id_like_columns_are_never_drift_tested(api: TestClient) -> None:
    """``request_id`` (ignored) and the record ids change completely between reference and window; the
    integer ``region_code`` is profiled as categorical everywhere, as the mapping says."""
    register(api, "churn", {"ignore": ["request_id"], "categorical": ["region_code"]})
    rng = np.random.default_rng(5)
    reference = reference_frame(4_000, seed=0)
    reference["request_id"] = np.arange(4_000)
    reference["region_code"] = rng.integers(0, 10, size=4_000)
    reference["id"] = [f"r-{i}" for i in range(4_000)]
    stored = api.post("/v1/models/churn/reference", content=parquet_bytes(reference), headers=PARQUET).json()
    assert "request_id" not in stored["columns"] and "id" not in stored["columns"]
    assert "region_code" in stored["columns"]
    current = reference_frame(2_000, seed=1)
    sent = records(current, past_window(), prefix="w")
    for i, record in enumerate(sent):
        record["features"] |= {"request_id": 10_000_000 + i, "region_code": int(rng.integers(0, 10))}
    api.post("/v1/models/churn/batches", json={"batch_id": "b", "records": sent}).raise_for_status()
    assert api.post("/v1/evaluate").json() == {"evaluated": 1}
    summary = api.get("/v1/models/churn/windows").json()[0]["summary"]
    assert "request_id" not in summary["drift"] and "id" not in summary["drift"]
    assert "region_code" in summary["drift"] and summary["drifted_columns"] == []
    findings = api.get("/v1/models/churn/findings").json()
    assert not [f for f in findings if f["column"] in ("request_id", "id")]
    from mlwarden.profile import DatasetProfile

    window = DatasetProfile.from_bytes(api.get("/v1/models/churn/profile").content)
    assert window.columns["region_code"].kind == "categorical" and "request_id" not in window.columns


def test_a_reference_missing_a_column_the_mapping_names_is_422(api: TestClient) -> None:
    register(api, "land", {"scores": {"a": "p_a", "b": "p_b"}, "categorical": ["region_code"]})
    frame = pd.DataFrame({"x": [1.0, 2.0], "p_a": [0.3, 0.6], "p_b": [0.7, 0.4], "region_code": [1, 2]})
    for drop, field in (("p_b", "scores"), ("region_code", "categorical")):
        response = api.post(
            "/v1/models/land/reference", content=parquet_bytes(frame.drop(columns=drop)), headers=PARQUET
        )
        assert response.status_code == 422
        assert (
            response.json()["detail"]
            == f"reference: no column {drop!r}, named in the model's columns.{field}"
        )


def test_a_feature_named_like_a_role_column_is_422(api: TestClient) -> None:
    register(api, "churn", {"target": "churned"})
    for feature in ("churned", "id", "prediction"):
        body = {"batch_id": "b", "records": [{"features": {"x": 1.0, feature: 1}, "prediction": 1}]}
        response = api.post("/v1/models/churn/batches", json=body)
        assert response.status_code == 422
        assert (
            response.json()["detail"] == f"records[].features: {feature} clash with the model's role columns"
        )


def test_a_mapping_the_data_contradicts_is_a_critical_finding_fixed_by_patching_the_columns(
    api: TestClient,
) -> None:
    """Score columns registered in the wrong class order: the window is not evaluated (one critical finding
    saying why, no retry loop); after ``PATCH columns`` the next window is."""
    register(api, "land", {"scores": {0: "p1", 1: "p0", 2: "p2"}})
    api.post("/v1/models/land/reference", content=parquet_bytes(land_cover(3_000, seed=0)), headers=PARQUET)
    first, second = past_window(3), past_window(2)
    body = {"batch_id": "a", "records": multiclass_records(land_cover(300, seed=1), first, "a", False)}
    api.post("/v1/models/land/batches", json=body).raise_for_status()
    assert api.post("/v1/evaluate").json() == {"evaluated": 1}
    assert api.post("/v1/evaluate").json() == {"evaluated": 0}  # not retried until something changes
    failed = api.get("/v1/models/land/findings", params={"check": "evaluation.failed"}).json()
    assert len(failed) == 1 and failed[0]["severity"] == "critical"
    assert "scores:" in failed[0]["message"] and "PATCH /v1/models/land" in failed[0]["message"]
    assert [a["check"] for a in api.get("/v1/alerts").json()] == ["evaluation.failed"]
    assert api.get("/v1/models/land/windows").json()[0]["summary"]["evaluated"] is False

    fixed = api.patch("/v1/models/land", json={"columns": {"scores": {k: f"p{k}" for k in CLASSES}}})
    assert fixed.status_code == 200 and fixed.json()["columns"]["scores"] == {"2": "p2", "0": "p0", "1": "p1"}
    body = {"batch_id": "b", "records": multiclass_records(land_cover(300, seed=2), second, "b", False)}
    api.post("/v1/models/land/batches", json=body).raise_for_status()
    assert api.post("/v1/evaluate").json() == {"evaluated": 1}
    windows = {w["start"]: w["summary"] for w in api.get("/v1/models/land/windows").json()}
    assert windows[second.isoformat()]["evaluated"] is True
    bad = api.patch("/v1/models/land", json={"columns": {"scores": []}})
    assert (
        bad.status_code == 422
        and bad.json()["detail"] == "columns.scores: expected at least one score column"
    )
