"""A window evaluated again because labels alone arrived: one 5,000-row window (SQLite, in process) is
evaluated, its labels sent, then evaluated again ``--repeats`` times with the same partial profiles — as
the scheduler does when labels arrive. Prints the minimum and median wall and CPU time (this thread's:
SQLite and the single-threaded fits run in it; what an idle machine would show) of a re-evaluation, in
ms, with its drift reused (:data:`mlwarden.server.windows.drift_results`) or decided afresh (``--fresh``
empties that cache before each run: the cost before the cache), and the load average.

    .venv/bin/python bench/relabel_bench.py [--rows 5000] [--repeats 7] [--fresh]
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
from mlwarden.server import create_app, windows
from mlwarden.store import Store
from mlwarden.store.schema import Window


def frame(rows: int, seed: int, shift: float) -> pd.DataFrame:
    """Six numeric features, one categorical, a calibrated score, its prediction and label."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 6)) + np.array([shift, 0, 0, 0, 0, 0])
    plan = rng.choice(["basic", "plus", "pro"], size=rows, p=[0.5, 0.3, 0.2])
    score = 1 / (1 + np.exp(-(1.2 * x[:, 0] - 0.8 * x[:, 1] + 0.3 * (plan == "pro"))))
    out = pd.DataFrame({f"x{i}": x[:, i] for i in range(6)})
    out["plan"] = plan
    out["score"] = score
    out["prediction"] = (score > 0.5).astype(int)
    out["label"] = rng.binomial(1, score)
    return out


def records(data: pd.DataFrame, start: datetime) -> list[dict]:
    features = [c for c in data.columns if c.startswith("x") or c == "plan"]
    return [
        {
            "id": f"r-{i}",
            "timestamp": (start + timedelta(seconds=i * 0.5)).isoformat(),
            "features": {c: row[c] for c in features},
            "prediction": int(row["prediction"]),
            "score": float(row["score"]),
        }
        for i, row in enumerate(data.to_dict("records"))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--fresh", action="store_true", help="decide the drift afresh at each run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(str(Path(folder) / "bench.db"))
        with TestClient(create_app(store, evaluate_every=None)) as client:
            client.headers["Authorization"] = (
                f"Bearer {create_token(store, team='t', name='a', scopes=['admin'])}"
            )
            client.post("/v1/models", json={"name": "churn"}).raise_for_status()
            buffer = io.BytesIO()
            frame(args.rows, seed=0, shift=0.0).to_parquet(buffer)
            client.post(
                "/v1/models/churn/reference",
                content=buffer.getvalue(),
                headers={"Content-Type": "application/vnd.apache.parquet"},
            ).raise_for_status()
            current = frame(args.rows, seed=1, shift=0.3)
            start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
            batch = {"batch_id": "b", "records": records(current, start)}
            client.post("/v1/models/churn/batches", json=batch).raise_for_status()
            with store.session() as session:
                window = session.scalars(select(Window)).one()
            windows.evaluate_window(store, window.model_id, window.id)  # before the labels
            labels = [{"id": f"r-{i}", "label": int(y)} for i, y in enumerate(current["label"])]
            client.post(
                "/v1/models/churn/labels", json={"batch_id": "l", "labels": labels}
            ).raise_for_status()
            cache = getattr(windows, "drift_results", None)  # absent before the cache existed
            times, cpu = [], []
            for _ in range(args.repeats):
                if args.fresh and cache is not None:
                    cache._items.clear()
                began, began_cpu = time.perf_counter(), time.thread_time()
                windows.evaluate_window(store, window.model_id, window.id)
                times.append((time.perf_counter() - began) * 1000)
                cpu.append((time.thread_time() - began_cpu) * 1000)
            with store.session() as session:
                summary = session.get(Window, window.id).summary
        store.dispose()
    reused = "afresh" if args.fresh or cache is None else "reused"
    print(
        f"{args.rows:,}-row window, labels-only re-evaluation, drift {reused}: wall min {min(times):.0f} ms, "
        f"median {statistics.median(times):.0f} ms; CPU min {min(cpu):.0f} ms, median "
        f"{statistics.median(cpu):.0f} ms ({args.repeats} runs; labelled {summary['labelled']:,}, "
        f"drifted {summary['drifted_columns']}); {load_average()}"
    )


if __name__ == "__main__":
    main()
