"""Load: a real ``mlwarden serve`` under concurrent ingestion and reads for ``--seconds`` (default 60).

    .venv/bin/python bench/load.py                                  # SQLite, 60 s
    .venv/bin/python bench/load.py --backend postgresql --writers 4 --readers 4

Writers post 500-row Arrow batches (20 features, prediction, score, ids, timestamps spread over the last
hours, so windows close and the in-process scheduler evaluates them every 5 s); every 5th batch is
followed by labels for half of its rows. Readers cycle through findings, alerts, windows, the model list,
``/metrics`` and the dashboard pages when the server has them (``/dashboard``, ``/``: whichever answers HTML).
The server's resident memory (VmRSS, the process and its children) is sampled every second.

Prints per operation: requests, requests/s, p50/p99 latency and errors (any non-2xx answer or transport
error; target 0); ingested rows/s; and the memory trend: RSS after warm-up (the first quarter), at the end,
the peak, and the slope of a least-squares line over the post-warm-up samples (MB per minute; target ≈ 0).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
from ingest_bench import MLWARDEN, POSTGRES, arrow_body, frame, free_port, reset_postgres

BATCH_ROWS = 500
SPREAD_HOURS = 6  # batch timestamps fall in the last hours: windows close and get evaluated under load


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, MB."""
    total = 0.0
    for p in [pid, *descendants(pid)]:
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024
        except (OSError, StopIteration):
            continue
    return total


def descendants(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
            if parent == pid:
                found += [int(entry.name), *descendants(int(entry.name))]
    return found


class Recorder:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.first_error: dict[str, str] = {}
        self.rows = 0
        self.lock = threading.Lock()

    def call(self, name: str, send, *args, **kwargs) -> httpx.Response | None:
        """``send(*args, **kwargs)``, timed and checked."""
        start = time.perf_counter()
        try:
            response = send(*args, **kwargs)
            failed = None if response.is_success else f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            response, failed = None, f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - start
        with self.lock:
            self.latencies[name].append(elapsed)
            if failed:
                self.errors[name] += 1
                self.first_error.setdefault(name, failed)
        return response


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--readers", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "load.db") if args.backend == "sqlite" else POSTGRES
        if args.backend == "postgresql":
            reset_postgres(POSTGRES)
        env = {**os.environ, "MLWARDEN_DB": db}
        create = [str(MLWARDEN), "tokens", "create", "--team", "load", "--scope", "admin"]
        token = subprocess.run(create, env=env, check=True, capture_output=True, text=True).stdout.strip()
        port = free_port()
        log = Path(tmp) / "server.log"
        serve = [
            str(MLWARDEN),
            "serve",
            "--port",
            str(port),
            "--evaluate-every",
            "5",
            "--log-level",
            "warning",
        ]
        server = subprocess.Popen(serve, env=env, stderr=open(log, "w"))  # noqa: SIM115 - closed with it
        url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}"}
        try:
            run(url, headers, server.pid, args)
        finally:
            server.terminate()  # waits for a window being evaluated; then gone for good
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            errors = [line for line in log.read_text().splitlines() if '"error"' in line]
            print(
                f"server log: {len(errors)} error line(s)" + (f"; first: {errors[0][:500]}" if errors else "")
            )


def run(url: str, headers: dict, pid: int, args: argparse.Namespace) -> None:
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    rng = np.random.default_rng(0)
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        client.post("/v1/models", json={"name": "load"}).raise_for_status()
        buffer = io.BytesIO()
        frame(20_000, rng, 0).drop(columns=["id", "timestamp"]).to_parquet(buffer)
        client.post(
            "/v1/models/load/reference",
            content=buffer.getvalue(),
            headers={"Content-Type": "application/vnd.apache.parquet"},
        ).raise_for_status()
        pages = [p for p in ("/dashboard", "/") if _is_html(client.get(p))]
    reads = [
        "/v1/models/load/findings",
        "/v1/alerts",
        "/v1/models/load/windows",
        "/v1/models",
        "/metrics",
        *pages,
    ]
    templates = [
        pa.Table.from_pandas(frame(BATCH_ROWS, rng, i * BATCH_ROWS), preserve_index=False) for i in range(20)
    ]
    recorder, stop = Recorder(), threading.Event()
    counter = iter(range(10**9))
    lock = threading.Lock()

    def writer() -> None:
        now = datetime.now(UTC)
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            while not stop.is_set():
                with lock:
                    i = next(counter)
                table = templates[i % len(templates)]
                ids = pa.array([f"b{i}-{k}" for k in range(BATCH_ROWS)])
                stamp = now - timedelta(hours=SPREAD_HOURS * (i % 97) / 97)
                table = table.set_column(table.column_names.index("id"), "id", ids)
                table = table.set_column(
                    table.column_names.index("timestamp"),
                    "timestamp",
                    pa.array([stamp] * BATCH_ROWS, pa.timestamp("us", tz="UTC")),
                )
                answer = recorder.call(
                    "POST batches",
                    client.post,
                    f"/v1/models/load/batches?batch_id=b{i}",
                    content=arrow_body(table),
                    headers={"Content-Type": "application/vnd.apache.arrow.stream"},
                )
                if answer is not None and answer.is_success:
                    with recorder.lock:
                        recorder.rows += BATCH_ROWS
                if i % 5 == 0:
                    labels = [{"id": f"b{i}-{k}", "label": int(k % 3 == 0)} for k in range(0, BATCH_ROWS, 2)]
                    body = {"batch_id": f"l{i}", "labels": labels}
                    recorder.call("POST labels", client.post, "/v1/models/load/labels", json=body)

    def reader(offset: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            k = offset
            while not stop.is_set():
                path = reads[k % len(reads)]
                recorder.call(f"GET {path}", client.get, path)
                k += 1

    memory: list[tuple[float, float]] = []
    threads = [threading.Thread(target=writer) for _ in range(args.writers)]
    threads += [threading.Thread(target=reader, args=(r,)) for r in range(args.readers)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    while (elapsed := time.monotonic() - start) < args.seconds:
        memory.append((elapsed, rss_mb(pid)))
        time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - start
    report(recorder, memory, wall, args)


def _is_html(response: httpx.Response) -> bool:
    return response.is_success and response.headers.get("content-type", "").startswith("text/html")


def report(
    recorder: Recorder, memory: list[tuple[float, float]], wall: float, args: argparse.Namespace
) -> None:
    print(
        f"\n{args.backend}, {wall:.0f} s: {args.writers} writers ({BATCH_ROWS}-row Arrow batches, labels "
        f"every 5th), {args.readers} readers"
    )
    print(f"{'operation':<34} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name in sorted(recorder.latencies):
        times = np.array(recorder.latencies[name]) * 1000
        print(
            f"{name:<34} {len(times):>9,} {len(times) / wall:>7.1f} {np.percentile(times, 50):>8.1f} "
            f"{np.percentile(times, 99):>8.1f} {recorder.errors[name]:>7}"
        )
    total_errors = sum(recorder.errors.values())
    print(f"ingested {recorder.rows / wall:,.0f} rows/s; errors {total_errors} (target 0)")
    for name, error in recorder.first_error.items():
        print(f"  first error of {name}: {error}", file=sys.stderr)
    t, rss = np.array(memory).T
    warm = t >= args.seconds / 4
    slope = np.polyfit(t[warm], rss[warm], 1)[0] * 60 if warm.sum() > 2 else float("nan")
    print(
        f"server RSS MB: after warm-up {rss[warm][0]:.0f}, end {rss[-1]:.0f}, peak {rss.max():.0f}; "
        f"trend after warm-up {slope:+.1f} MB/min"
    )
    samples = " ".join(f"{r:.0f}" for r in rss[:: max(1, len(rss) // 12)])
    print(f"RSS samples (MB, every {max(1, len(rss) // 12)} s): {samples}")


if __name__ == "__main__":
    main()
