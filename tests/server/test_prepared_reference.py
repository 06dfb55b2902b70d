"""The reference side of the service is prepared once per reference and mapping (issue 15): ingestion and
every window of the model share one decoded profile, and every later window reuses the fitted CBPE — the
whole data's and each segment's — with results identical to a fresh fit. A new reference is used by the
very next batch and window."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from service_data import parquet_bytes, past_window, records, reference_frame
from spies import recording
from sqlalchemy import select

from mlwarden.performance.cbpe import CBPE
from mlwarden.profile import DatasetProfile
from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.server.prepared import PREPARED_ITEMS, ReferenceKey, prepared
from mlwarden.server.windows import evaluate_due, evaluate_window
from mlwarden.store import Store
from mlwarden.store.schema import Batch, PartialProfile, Reference, Window


@pytest.fixture
def api(store: Store):
    with TestClient(create_app(store, evaluate_every=None)) as client:
        token = create_token(store, team="growth", name="admin", scopes=["admin"])
        client.headers["Authorization"] = f"Bearer {token}"
        client.post("/v1/models", json={"name": "churn"}).raise_for_status()
        _upload_reference(client, seed=0)
        yield client


def _upload_reference(client: TestClient, seed: int, model: str = "churn") -> None:
    client.post(
        f"/v1/models/{model}/reference",
        content=parquet_bytes(reference_frame(1_000, seed=seed)),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    ).raise_for_status()


def _send_window(client: TestClient, hours_ago: int, prefix: str, model: str = "churn") -> None:
    frame = reference_frame(300, seed=hours_ago)
    body = {"batch_id": prefix, "records": records(frame, past_window(hours_ago), prefix=prefix)}
    client.post(f"/v1/models/{model}/batches", json=body).raise_for_status()
    labels = [{"id": f"{prefix}-{i}", "label": int(y)} for i, y in enumerate(frame["label"])]
    body = {"batch_id": f"l-{prefix}", "labels": labels}
    client.post(f"/v1/models/{model}/labels", json=body).raise_for_status()


def _fits(store: Store) -> list:
    """The prepared fits of this store's references in the process-wide cache (other tests' stores may
    have left theirs: a PostgreSQL test database is emptied and reused under the same URL)."""
    with store.session() as session:
        ours = {ReferenceKey(store.url, r.id, r.created_at) for r in session.scalars(select(Reference))}
    return [key for key in prepared._items if key[0] == "fit" and key[1] in ours]


def _summaries(store: Store) -> list[dict]:
    with store.session() as session:
        return [w.summary for w in session.scalars(select(Window).order_by(Window.start))]


def _partial_profile(store: Store, batch_id: str) -> DatasetProfile:
    with store.session() as session:
        blob = session.scalar(
            select(PartialProfile.profile)
            .join(Batch, Batch.id == PartialProfile.batch_pk)
            .where(Batch.batch_id == batch_id)
        )
    return DatasetProfile.from_bytes(blob)


def _reference_profiles(store: Store) -> list[DatasetProfile]:
    with store.session() as session:
        blobs = session.scalars(select(Reference.profile).order_by(Reference.id)).all()
    return [DatasetProfile.from_bytes(blob) for blob in blobs]


def test_windows_of_a_model_share_one_reference_fit(api: TestClient, store: Store) -> None:
    hits, misses = prepared.hits, prepared.misses
    _send_window(api, 3, "a")
    _send_window(api, 2, "b")
    assert evaluate_due(store) == 2
    assert len(_fits(store)) == 1
    # one decoded reference for ingestion and evaluation: the first batch decodes the profile, the first
    # window fits the estimator (2 misses); the second batch and both windows find the profile, the second
    # window the fit (4 hits)
    assert (prepared.misses - misses, prepared.hits - hits) == (2, 4)
    summaries = _summaries(store)
    assert all(s["evaluated"] and s["labelled"] == 300 for s in summaries)
    estimated = [s["performance"]["estimated"] for s in summaries]
    assert all(e["n"] == 300 and 0.5 < e["roc_auc"] < 1 for e in estimated)

    # the same results from a fit made afresh: the cache changes the cost, never the findings
    prepared._items.clear()
    with store.session() as session:
        window = session.scalars(select(Window).order_by(Window.start)).all()[-1]
    evaluate_window(store, window.model_id, window.id)
    assert _summaries(store)[-1] == summaries[-1]


def test_a_new_reference_is_prepared_anew(api: TestClient, store: Store) -> None:
    _send_window(api, 3, "a")
    assert evaluate_due(store) == 1
    misses = prepared.misses
    _upload_reference(api, seed=7)
    _send_window(api, 2, "b")
    assert evaluate_due(store) == 1
    assert prepared.misses - misses == 2  # the new reference's profile (decoded by the batch) and fit
    assert len(_fits(store)) == 2
    assert len(prepared) <= PREPARED_ITEMS
    # the very next batch was profiled on the new reference: binned on its edges, not the old one's
    old, new = _reference_profiles(store)
    before, after = _partial_profile(store, "a"), _partial_profile(store, "b")
    np.testing.assert_array_equal(before["x1"].edges, old["x1"].edges)
    np.testing.assert_array_equal(after["x1"].edges, new["x1"].edges)
    assert not np.array_equal(old["x1"].edges, new["x1"].edges)
    # and the very next window was judged against it: its fit is the new reference's
    with store.session() as session:
        ids = set(session.scalars(select(Reference.id)))
    assert {key[1].id for key in _fits(store)} == ids


def test_a_segmented_models_second_window_refits_nothing(
    api: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each segment's CBPE is fitted once per reference, with the whole data's (one cache entry): the
    second window of a model with ``columns.segments`` loads nothing and fits nothing."""
    created = api.post("/v1/models", json={"name": "plans", "columns": {"segments": ["plan"]}})
    assert created.status_code == 201, created.text
    _upload_reference(api, seed=0, model="plans")
    _send_window(api, 3, "a", model="plans")
    _send_window(api, 2, "b", model="plans")
    fitted = recording(monkeypatch, CBPE, "fit")
    with store.session() as session:
        first, second = session.scalars(select(Window).order_by(Window.start)).all()[-2:]
        assert first.model_id == second.model_id  # the churn model has no windows
    evaluate_window(store, first.model_id, first.id)
    assert len(fitted) == 4  # the whole data's and each plan's: basic, plus, pro
    [key] = _fits(store)
    assert set(prepared._items[key][1].segments) == {"plan=basic", "plan=plus", "plan=pro"}

    hits, misses = prepared.hits, prepared.misses
    evaluate_window(store, second.model_id, second.id)
    assert len(fitted) == 4  # nothing refitted
    assert (prepared.misses - misses, prepared.hits - hits) == (0, 2)  # the profile and the fits
    summaries = _summaries(store)
    segments = summaries[-1]["segments"]
    assert set(segments) == {"plan=basic", "plan=plus", "plan=pro"}
    assert all(0.5 < s["performance"]["estimated"]["roc_auc"] < 1 for s in segments.values())

    # the same results from fits made afresh: the cache changes the cost, never the findings
    prepared._items.clear()
    evaluate_window(store, second.model_id, second.id)
    assert len(fitted) == 8
    assert _summaries(store)[-1] == summaries[-1]
