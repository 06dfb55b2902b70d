"""A window evaluated again because labels alone arrived reuses its drift: the partial profiles up to the
claim's horizon are those it was decided on, so only what labels change (realized performance, per segment
too) is computed again — with findings and summary identical to a fresh evaluation. A new batch in the
window or a new reference decides the drift anew."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from service_data import parquet_bytes, past_window, records, reference_frame
from spies import recording
from sqlalchemy import select

import mlwarden.drift.engine
from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.server.prepared import prepared
from mlwarden.server.windows import drift_results, evaluate_due, evaluate_window
from mlwarden.store import Store
from mlwarden.store.schema import StoredFinding, Window

ROWS = 300


@pytest.fixture(params=[None, ["plan"]], ids=["whole", "segments"])
def api(store: Store, request: pytest.FixtureRequest):
    """A model (with ``columns.segments`` for the ``segments`` case) with its reference."""
    with TestClient(create_app(store, evaluate_every=None)) as client:
        token = create_token(store, team="growth", name="admin", scopes=["admin"])
        client.headers["Authorization"] = f"Bearer {token}"
        columns = {} if request.param is None else {"columns": {"segments": request.param}}
        client.post("/v1/models", json={"name": "churn", **columns}).raise_for_status()
        _upload_reference(client, seed=0)
        yield client


def _upload_reference(client: TestClient, seed: int) -> None:
    client.post(
        "/v1/models/churn/reference",
        content=parquet_bytes(reference_frame(1_000, seed=seed)),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    ).raise_for_status()


def _send_batch(client: TestClient, prefix: str, seed: int) -> list[dict]:
    """A batch in the window 3 hours ago, its first feature shifted (drift to find); returns its labels."""
    frame = reference_frame(ROWS, seed=seed)
    frame["x1"] += 0.6
    start = past_window(3)
    body = {"batch_id": prefix, "records": records(frame, start, prefix=prefix)}
    client.post("/v1/models/churn/batches", json=body).raise_for_status()
    return [{"id": f"{prefix}-{i}", "label": int(y)} for i, y in enumerate(frame["label"])]


def _send_labels(client: TestClient, labels: list[dict], batch_id: str) -> None:
    client.post("/v1/models/churn/labels", json={"batch_id": batch_id, "labels": labels}).raise_for_status()


def _window(store: Store) -> Window:
    with store.session() as session:
        return session.scalars(select(Window)).one()


def _findings(store: Store) -> list[tuple]:
    with store.session() as session:
        rows = session.scalars(select(StoredFinding).where(StoredFinding.window_id.is_not(None)))
        found = [
            (r.check, r.severity, r.segment, r.column, r.message, r.value, r.threshold, r.evidence)
            for r in rows
        ]
    return sorted(found, key=repr)


def _classifier_runs(monkeypatch: pytest.MonkeyPatch) -> list:
    return recording(monkeypatch, mlwarden.drift.engine, "domain_classifier")


def test_labels_alone_reuse_the_windows_drift(
    api: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _classifier_runs(monkeypatch)
    labels = _send_batch(api, "a", seed=1)
    assert evaluate_due(store) == 1
    assert len(runs) == 1
    before = _window(store).summary
    assert before["labelled"] == 0 and before["drifted_columns"] == ["x1"]

    _send_labels(api, labels, "l-a")
    assert evaluate_due(store) == 1  # labels made it due again, with the same horizon
    assert len(runs) == 1  # the drift was reused: no domain classifier, no univariate test
    window = _window(store)
    assert window.evaluations == 2
    summary, findings = window.summary, _findings(store)
    assert summary["labelled"] == ROWS
    assert summary["performance"]["realized"]["n"] == ROWS  # what labels change was computed again
    assert 0.5 < summary["performance"]["realized"]["roc_auc"] < 1
    assert summary["drift"] == before["drift"] and summary["drifted_columns"] == ["x1"]
    assert any(f[0] == "drift" and f[3] == "x1" for f in findings)
    if "segments" in summary:
        assert set(summary["segments"]) == {"plan=basic", "plan=plus", "plan=pro"}
        realized = [s["performance"]["realized"] for s in summary["segments"].values()]
        assert sum(r["n"] for r in realized) == ROWS
        assert all(s["performance"]["realized"] == {} for s in before["segments"].values())

    # identical to an evaluation made afresh, every cache emptied
    drift_results._items.clear()
    prepared._items.clear()
    evaluate_window(store, window.model_id, window.id)
    assert len(runs) == 2
    assert _window(store).summary == summary
    assert _findings(store) == findings


def test_a_new_batch_decides_the_drift_anew(
    api: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _classifier_runs(monkeypatch)
    labels = _send_batch(api, "a", seed=1)
    assert evaluate_due(store) == 1
    _send_labels(api, labels + _send_batch(api, "b", seed=2), "l-ab")  # a higher horizon, and labels
    assert evaluate_due(store) == 1
    assert len(runs) == 2
    summary = _window(store).summary
    assert summary["rows"] == 2 * ROWS and summary["labelled"] == 2 * ROWS

    drift_results._items.clear()
    window = _window(store)
    evaluate_window(store, window.model_id, window.id)
    assert _window(store).summary == summary


def test_a_new_reference_decides_the_drift_anew(
    api: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _classifier_runs(monkeypatch)
    labels = _send_batch(api, "a", seed=1)
    assert evaluate_due(store) == 1
    _upload_reference(api, seed=7)
    _send_labels(api, labels, "l-a")
    assert evaluate_due(store) == 1
    assert len(runs) == 2  # the same partial profiles, judged against another reference
    summary = _window(store).summary
    assert summary["labelled"] == ROWS

    drift_results._items.clear()
    window = _window(store)
    evaluate_window(store, window.model_id, window.id)
    assert _window(store).summary == summary
