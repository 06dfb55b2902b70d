"""Alert notification latency: from a window's close to the webhook delivery, on a real `mlwarden serve`.

    .venv/bin/python bench/alert_latency.py                          # SQLite, 24 models
    .venv/bin/python bench/alert_latency.py --backend postgresql --models 30

The server runs with the window scheduler at 1 s (``--evaluate-every 1``: it also wakes as each window
closes) and the sender at 1 s (woken once a window's alerts are committed). Each model has windows of its
own length (61 s, 62 s, …, grace 0) so that they close at scattered moments, a reference, one drifted batch
in its current window, and a configuration routing every alert to a local webhook receiver with
``group_wait: 0s``. Latency = the moment the webhook receiver got the model's first notification − the end
of the window it is about, split at the moment the scheduler picked the window up (the server's ``window
evaluated`` log line) and the moment its checks were done (the window's ``evaluated_at``, when its alerts
are updated and their outbox rows written). Takes about two minutes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get(
    "MLWARDEN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/mlwarden_bench"
)
CONFIG = """
owner: {{name: Bench, email: bench@example.com, team: bench}}
window: {window}s
columns: {{target: label}}
alerts:
  receivers:
    hook: {{webhook: {{url: "{url}/{model}"}}}}
  route: {{receiver: hook, group_by: [model], group_wait: 0s}}
"""


class Receiver:
    """A local webhook receiver noting when each model's first notification arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.arrived.setdefault(self.path.strip("/"), time.time())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def frame(rows: int, rng: np.random.Generator, shift: float) -> pd.DataFrame:
    data = {f"x{i}": rng.normal(shift if i < 2 else 0.0, 1.0, rows) for i in range(5)}
    score = rng.random(rows)
    return pd.DataFrame({**data, "prediction": (score > 0.5).astype(int), "score": score})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def window_end(now: float, seconds: int) -> float:
    return (int(now) // seconds + 1) * seconds


def run(db: str, models: int, rng: np.random.Generator, log: Path) -> np.ndarray:
    """``[[close → picked up, picked up → evaluated, evaluated → delivered, close → delivered], …]`` per
    model, in seconds."""
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MLWARDEN_DB": db}
    args = ["serve", "--port", str(port), "--no-auth", "--evaluate-every", "1", "--send-every", "1"]
    server = subprocess.Popen(
        [sys.executable, "-m", "mlwarden", *args, "--log-level", "info"],
        env=env,
        stderr=log.open("w"),
    )
    receiver = Receiver()
    ends: dict[str, float] = {}
    evaluated: dict[str, float] = {}
    ids: dict[int, str] = {}
    try:
        with httpx.Client(base_url=api, timeout=60) as client:
            for _ in range(200):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            reference = io.BytesIO()
            frame(2_000, rng, 0.0).assign(label=lambda f: f["prediction"]).to_parquet(reference)
            seconds = 61
            for i in range(models):
                name = f"m{i}"
                # a window that closes at least 20 s from now (setup of the others takes a while)
                while window_end(time.time(), seconds) - time.time() < 20 + models * 0.4:
                    seconds += 1
                config = CONFIG.format(window=seconds, url=receiver.url, model=name)
                model = {"name": name, "team": "bench", "grace_seconds": 0, "window_seconds": seconds}
                client.post("/v1/models", json=model).raise_for_status()
                ids[len(ids) + 1] = name  # a fresh store: models get ids 1, 2, … in this order
                client.put(f"/v1/models/{name}/config", content=config.encode()).raise_for_status()
                client.post(
                    f"/v1/models/{name}/reference",
                    content=reference.getvalue(),
                    headers={"Content-Type": "application/vnd.apache.parquet"},
                ).raise_for_status()
                now = time.time()
                stamp = datetime.fromtimestamp(now, UTC)
                current = frame(500, rng, 1.0)
                records = [
                    {
                        "id": f"{name}-{j}",
                        "timestamp": (stamp + timedelta(milliseconds=j)).isoformat(),
                        "features": {f"x{k}": row[f"x{k}"] for k in range(5)},
                        "prediction": int(row["prediction"]),
                        "score": float(row["score"]),
                    }
                    for j, row in enumerate(current.to_dict("records"))
                ]
                body = {"batch_id": "b1", "records": records}
                client.post(f"/v1/models/{name}/batches", json=body).raise_for_status()
                ends[name] = window_end(now, seconds)
                seconds += 1
            deadline = max(ends.values()) + 30
            while len(receiver.arrived) < models and time.time() < deadline:
                time.sleep(0.2)
            for name in ends:
                [window] = client.get(f"/v1/models/{name}/windows").json()
                evaluated[name] = datetime.fromisoformat(window["evaluated_at"]).timestamp()
    finally:
        server.terminate()
        server.wait(30)
        receiver.server.shutdown()
    missing = sorted(set(ends) - set(receiver.arrived))
    if missing:
        raise SystemExit(f"no notification for {missing}")
    picked = picked_up(log, ids)
    return np.array(
        [
            (
                picked[n] - ends[n],
                evaluated[n] - picked[n],
                receiver.arrived[n] - evaluated[n],
                receiver.arrived[n] - ends[n],
            )
            for n in ends
        ]
    )


def picked_up(log: Path, ids: dict[int, str]) -> dict[str, float]:
    """``{model: when the scheduler started evaluating its window}`` from the server's JSON log lines."""
    out: dict[str, float] = {}
    for line in log.read_text().splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        if entry.get("msg") == "window evaluated":
            out[ids[entry["model_id"]]] = datetime.fromisoformat(entry["started"]).timestamp()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--models", type=int, default=24)
    options = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        if options.backend == "postgresql":
            import sqlalchemy as sa

            engine = sa.create_engine(POSTGRES)
            with engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
            db = POSTGRES
        else:
            db = str(Path(folder) / "bench.db")
        load = os.getloadavg()[0]
        spans = run(db, options.models, rng, Path(folder) / "serve.log")
    print(f"alert latency, window close → webhook delivery ({options.backend}, scheduler 1 s, sender 1 s)")
    print(f"load average (1 min): {load:.1f} before, {os.getloadavg()[0]:.1f} after; {os.cpu_count()} cores")
    print(f"| span ({len(spans)} windows) | p50 s | p99 s | max s |")
    print("|---|---|---|---|")
    names = (
        "close → picked up (scheduler)",
        "picked up → evaluated (the window's checks)",
        "evaluated → delivered (alert state, outbox, sender, HTTP)",
        "close → delivered",
    )
    for name, values in zip(names, spans.T, strict=True):
        p50, p99 = np.percentile(values, [50, 99])
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {values.max():.2f} |")


if __name__ == "__main__":
    main()
