"""Replicas: two real ``mlwarden serve`` processes on one store — one of them with ``--workers 2`` — share
ingestion and window evaluation, and every window is evaluated exactly once per change (issue 15)."""

from __future__ import annotations

import time

import httpx
from serve_process import ServeProcess
from service_data import parquet_bytes, past_window, records, reference_frame
from sqlalchemy import select

from mlwarden.registry import create_token
from mlwarden.store import Store
from mlwarden.store.schema import Window

WINDOWS = 8


def _evaluations(store: Store) -> dict:
    with store.session() as session:
        return dict(session.execute(select(Window.start, Window.evaluations)).all())


def _wait_for(store: Store, done, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = _evaluations(store)
        if done(counts):
            time.sleep(1.5)  # several more scheduler ticks of every process: nothing may evaluate again
            return _evaluations(store)
        time.sleep(0.2)
    raise AssertionError(f"windows not evaluated in {timeout} s: {_evaluations(store)}")


def test_replicas_share_ingestion_and_evaluate_each_window_once(store: Store, tmp_path) -> None:
    token = create_token(store, team="growth", name="admin", scopes=["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    log = tmp_path / "serve.log"
    fast = ("--evaluate-every", "0.2")
    with (
        ServeProcess(store.url, log, "--workers", "2", *fast) as first,
        ServeProcess(store.url, log, *fast) as second,
        httpx.Client(base_url=first.url, headers=headers, timeout=60) as a,
        httpx.Client(base_url=second.url, headers=headers, timeout=60) as b,
    ):
        a.post("/v1/models", json={"name": "churn"}).raise_for_status()
        b.post(
            "/v1/models/churn/reference",
            content=parquet_bytes(reference_frame(1_000)),
            headers={"Content-Type": "application/vnd.apache.parquet"},
        ).raise_for_status()
        frame = reference_frame(50, seed=3)
        for w in range(WINDOWS):  # each window's batch through either server
            body = {"batch_id": f"b{w}", "records": records(frame, past_window(w + 2), prefix=f"w{w}")}
            answer = (a if w % 2 else b).post("/v1/models/churn/batches", json=body)
            assert answer.status_code == 200 and not answer.json()["duplicate"], answer.text
        counts = _wait_for(store, lambda c: len(c) == WINDOWS and all(c.values()))
        assert sorted(counts.values()) == [1] * WINDOWS

        relabelled = range(0, WINDOWS, 4)  # labels make a window due again: evaluated once more
        for w in relabelled:
            labels = [{"id": f"w{w}-{i}", "label": int(y)} for i, y in enumerate(frame["label"])]
            (b if w % 2 else a).post(
                "/v1/models/churn/labels", json={"batch_id": f"l{w}", "labels": labels}
            ).raise_for_status()
        starts = {past_window(w + 2) for w in relabelled}
        counts = _wait_for(store, lambda c: all(c[s] == 2 for s in starts))
        assert {s: n for s, n in counts.items() if n != 1} == dict.fromkeys(starts, 2)
        assert a.get("/v1/models/churn/windows").json() == b.get("/v1/models/churn/windows").json()
    assert '"error"' not in log.read_text(), log.read_text()[-3000:]
