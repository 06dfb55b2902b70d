"""Window evaluation of a segmented model: what a window costs once the reference is prepared.

    .venv/bin/python bench/segment_eval_bench.py                 # about half a minute on 2 idle cores
    .venv/bin/python bench/segment_eval_bench.py --regions 20 --windows 6 --repeats 5

A model with ``columns.segments = ["plan", "region"]`` (3 plans and ``--regions`` regions: 3 + regions
segments), a labelled 20,000-row reference and ``--windows`` closed hourly windows of ``--rows`` labelled
predictions each, ingested in-process (FastAPI TestClient, SQLite file store). The first window is evaluated
cold (the process prepares the reference: decoded profile, CBPE for the whole data and, since the
per-segment fits are cached too, for every segment); every other window is then evaluated ``--repeats``
times (``evaluate_window``: the label join, the profile merge, every check for the whole data and each
segment, storing findings and alerts). Prints the cold window and the min and median of the warm ones, in
ms: wall time and this thread's CPU time (SQLite and the checks run in it; the fits on one OpenMP thread),
with the load average — on a busy machine the wall time includes waiting for a CPU.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from common import load_average
from fastapi.testclient import TestClient
from sqlalchemy import select

from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.server.windows import evaluate_window
from mlwarden.store import Store
from mlwarden.store.schema import Window

PLANS = np.array(["basic", "plus", "pro"])


def frame(rows: int, regions: int, rng: np.random.Generator) -> pd.DataFrame:
    """Three numeric features, the two segment columns, a calibrated score, its prediction and label."""
    x = rng.normal(size=(rows, 3))
    plan = PLANS[rng.choice(3, rows, p=[0.5, 0.3, 0.2])]
    region = np.array([f"r{i}" for i in range(regions)])[rng.integers(0, regions, rows)]
    score = 1 / (1 + np.exp(-(1.2 * x[:, 0] - 0.8 * x[:, 1] + 0.3 * (plan == "pro"))))
    return pd.DataFrame(
        {
            "x1": x[:, 0],
            "x2": x[:, 1],
            "x3": x[:, 2],
            "plan": plan,
            "region": region,
            "prediction": (score > 0.5).astype(int),
            "score": score,
            "label": rng.binomial(1, score),
        }
    )


def ingest(client: TestClient, rows: int, regions: int, windows: int, rng: np.random.Generator) -> None:
    """The model, its reference and ``windows`` closed hourly windows of labelled predictions."""
    client.post("/v1/models", json={"name": "churn", "columns": {"segments": ["plan", "region"]}})
    buffer = io.BytesIO()
    frame(20_000, regions, rng).to_parquet(buffer)
    client.post(
        "/v1/models/churn/reference",
        content=buffer.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    ).raise_for_status()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for w in range(windows):
        start = hour - timedelta(hours=windows + 1 - w)
        current = frame(rows, regions, rng)
        records = [
            {
                "id": f"w{w}-{i}",
                "timestamp": (start + timedelta(seconds=i * 3600 / rows)).isoformat(),
                "features": {"x1": r.x1, "x2": r.x2, "x3": r.x3, "plan": r.plan, "region": r.region},
                "prediction": int(r.prediction),
                "score": float(r.score),
            }
            for i, r in enumerate(current.itertuples())
        ]
        body = {"batch_id": f"w{w}", "records": records}
        client.post("/v1/models/churn/batches", json=body).raise_for_status()
        labels = [{"id": f"w{w}-{i}", "label": int(y)} for i, y in enumerate(current["label"])]
        body = {"batch_id": f"l{w}", "labels": labels}
        client.post("/v1/models/churn/labels", json=body).raise_for_status()


def timed(store: Store, window: Window) -> tuple[float, float]:
    """``(wall ms, CPU ms)`` of one evaluation of ``window``."""
    begin, cpu = time.perf_counter(), time.thread_time_ns()
    evaluate_window(store, window.model_id, window.id)
    return (time.perf_counter() - begin) * 1000, (time.thread_time_ns() - cpu) / 1e6


def run(rows: int, regions: int, windows: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "bench.db"))
        with TestClient(create_app(store, evaluate_every=None)) as client:
            token = create_token(store, team="bench", name="admin", scopes=["admin"])
            client.headers["Authorization"] = f"Bearer {token}"
            ingest(client, rows, regions, windows, rng)
            with store.session() as session:
                found = session.scalars(select(Window).order_by(Window.start)).all()
            cold = timed(store, found[0])
            warm = [timed(store, window) for window in found[1:] for _ in range(repeats)]
            with store.session() as session:
                summary = session.get(Window, found[-1].id).summary
        store.dispose()
    segments = len(summary.get("segments", {}))
    print(
        f"{segments} segments, {rows:,}-row labelled windows; {load_average()}\n"
        f"cold (first window, reference prepared): {cold[0]:.0f} ms wall, {cold[1]:.0f} ms CPU\n"
        f"warm ({len(warm)} evaluations of {windows - 1} windows): wall min {min(w for w, _ in warm):.0f} / "
        f"median {statistics.median(w for w, _ in warm):.0f} ms, CPU min {min(c for _, c in warm):.0f} / "
        f"median {statistics.median(c for _, c in warm):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000, help="labelled predictions per window")
    parser.add_argument("--regions", type=int, default=10, help="values of the second segment column")
    parser.add_argument("--windows", type=int, default=4, help="closed windows (the first is evaluated cold)")
    parser.add_argument("--repeats", type=int, default=5, help="evaluations of each warm window")
    args = parser.parse_args()
    run(args.rows, args.regions, args.windows, args.repeats)


if __name__ == "__main__":
    main()
