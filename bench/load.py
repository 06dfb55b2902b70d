"""Load: a real ``mlwarden serve`` under concurrent ingestion and reads for ``--seconds`` (default 60).

    .venv/bin/python bench/load.py                                  # SQLite, 60 s
    .venv/bin/python bench/load.py --backend postgresql --writers 4 --readers 4
    .venv/bin/python bench/load.py --seconds 600 --warmup 180      # the memory trend: run minutes
    .venv/bin/python bench/load.py --seconds 300 --trace grew.txt  # what grew, under tracemalloc

The server is this interpreter's ``python -m mlwarden serve`` (``PYTHONPATH`` applies). Writers post
500-row Arrow batches (20 features, prediction, score, ids) to a model with one-minute windows, each
batch's rows stamped up to two minutes before it is sent: windows keep receiving late data for two
minutes, then close for good, and the in-process scheduler evaluates them every 5 s — a stationary load,
so memory after warm-up should be flat. Every 5th batch is followed by labels for half of its rows.
Readers cycle through findings, alerts, windows, the model list, ``/metrics`` and the dashboard (logged in
through its form): the fleet, the model page, the alert inbox and the newest evaluated window's report.
The server's resident memory (VmRSS, the process and its children) is sampled every second.

Prints per operation: requests, requests/s, p50/p99 latency and errors (any non-2xx answer or transport
error; target 0); ingested rows/s; and the memory trend: RSS after warm-up (``--warmup``, default the
first quarter), at the end, the peak, least-squares slopes after warm-up and over the second half (MB per
minute) and a verdict (flat: the second half's fitted rise within its noise). ``--trace FILE`` runs the
server under tracemalloc (``bench/traced_serve.py``): Python heap, glibc's heap and Arrow's pool beside RSS
every 10 s, and the allocations that grew since warm-up.
"""

from __future__ import annotations

import argparse
import io
import os
import re
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
from ingest_bench import POSTGRES, arrow_body, frame, free_port, reset_postgres

BATCH_ROWS = 500
FLAT_MB_PER_MIN = 1.0  # a second-half slope below this is flat whatever the noise
WINDOW_SECONDS = 60  # the shortest window a model may have: one closes every minute of the run
SPREAD_SECONDS = 120  # a batch's rows are stamped up to this long before it is sent (late data)
WINDOW_PAGE = "/models/load/windows/{start}"  # the newest evaluated window's page
DASHBOARD_PAGES = ["/", "/models/load", "/alerts", WINDOW_PAGE]  # read with a session cookie after login


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
    parser.add_argument(
        "--warmup",
        type=float,
        help="seconds before memory counts as warmed up (default: a quarter of the run)",
    )
    parser.add_argument(
        "--trace",
        metavar="FILE",
        help="run the server under tracemalloc (bench/traced_serve.py): after the warm-up, append the "
        "allocations that grew most to FILE every --trace-every seconds (slows the server down)",
    )
    parser.add_argument("--trace-every", type=float, default=60.0)
    parser.add_argument("--trace-frames", type=int, default=1, help="frames kept per traced allocation")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "load.db") if args.backend == "sqlite" else POSTGRES
        if args.backend == "postgresql":
            reset_postgres(POSTGRES)
        env = {**os.environ, "MLWARDEN_DB": db}
        mlwarden = [sys.executable, "-m", "mlwarden"]  # this interpreter's mlwarden (PYTHONPATH applies)
        create = [*mlwarden, "tokens", "create", "--team", "load", "--scope", "admin"]
        token = subprocess.run(create, env=env, check=True, capture_output=True, text=True).stdout.strip()
        port = free_port()
        log = Path(tmp) / "server.log"
        if args.trace:
            traced = Path(__file__).with_name("traced_serve.py")
            warmup = args.warmup if args.warmup is not None else args.seconds / 4
            trace = [args.trace, str(warmup), str(args.trace_every), str(args.trace_frames)]
            mlwarden = [sys.executable, str(traced), *trace]
        serve = [
            *mlwarden,
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
                f"server log: {len(errors)} error line(s)"
                + (f"; first: {errors[0][:300]} … {errors[0][-900:]}" if errors else "")
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
        model = {"name": "load", "window_seconds": WINDOW_SECONDS, "grace_seconds": 5}
        client.post("/v1/models", json=model).raise_for_status()
        buffer = io.BytesIO()
        frame(20_000, rng, 0).drop(columns=["id", "timestamp"]).to_parquet(buffer)
        client.post(
            "/v1/models/load/reference",
            content=buffer.getvalue(),
            headers={"Content-Type": "application/vnd.apache.parquet"},
        ).raise_for_status()
        cookies = dashboard_session(client, headers["Authorization"].removeprefix("Bearer "))
    reads = [
        "/v1/models/load/findings",
        "/v1/alerts",
        "/v1/models/load/windows",
        "/v1/models",
        "/metrics",
        *(DASHBOARD_PAGES if cookies else []),
    ]
    window = {"start": None}  # the newest evaluated window's start, read from the windows route
    templates = [
        pa.Table.from_pandas(frame(BATCH_ROWS, rng, i * BATCH_ROWS), preserve_index=False) for i in range(20)
    ]
    recorder, stop = Recorder(), threading.Event()
    counter = iter(range(10**9))
    lock = threading.Lock()

    def writer() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            while not stop.is_set():
                with lock:
                    i = next(counter)
                table = templates[i % len(templates)]
                ids = pa.array([f"b{i}-{k}" for k in range(BATCH_ROWS)])
                stamp = datetime.now(UTC) - timedelta(seconds=SPREAD_SECONDS * (i % 97) / 97)
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
        with httpx.Client(base_url=url, headers=headers, cookies=cookies, timeout=60) as client:
            k = offset
            while not stop.is_set():
                path = reads[k % len(reads)]
                k += 1
                if path == WINDOW_PAGE:
                    if window["start"] is None:
                        continue
                    path = f"/models/load/windows/{window['start']}"
                answer = recorder.call(f"GET {reads[(k - 1) % len(reads)]}", client.get, path)
                if path == "/v1/models/load/windows" and answer is not None and answer.is_success:
                    evaluated = [w["start"] for w in answer.json() if w["status"] == "evaluated"]
                    window["start"] = evaluated[0] if evaluated else window["start"]

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


def dashboard_session(client: httpx.Client, token: str) -> httpx.Cookies | None:
    """The dashboard's session cookie for ``token`` (its login form, CSRF field included); None when the
    server has no dashboard."""
    form = client.get("/login")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if not form.is_success or found is None:
        return None
    answer = client.post("/login", data={"token": token, "csrf": found.group(1), "next": "/"})
    if answer.status_code != 303 or "mlwarden_session" not in answer.cookies:
        raise RuntimeError(f"dashboard login failed: {answer.status_code} {answer.text[:200]}")
    return httpx.Cookies({"mlwarden_session": answer.cookies["mlwarden_session"]})


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
    print(memory_trend(np.array(memory), args.warmup if args.warmup is not None else args.seconds / 4))


def memory_trend(samples: np.ndarray, warmup: float) -> str:
    """The memory lines of the report from ``(seconds, RSS MB)`` samples: RSS after ``warmup`` seconds and
    at the end, the peak, the least-squares slope over the post-warm-up samples and over the second half
    (MB/min), and a verdict — flat when the second half's fitted rise stays within twice the residuals'
    standard deviation (the sawtooth of requests and evaluations) or its slope under FLAT_MB_PER_MIN."""
    t, rss = samples.T
    warm = t >= warmup
    half = t >= t[-1] / 2
    if warm.sum() < 3 or half.sum() < 3:
        return f"server RSS MB: end {rss[-1]:.0f}, peak {rss.max():.0f} (too few samples for a trend)"
    slope = np.polyfit(t[warm], rss[warm], 1)[0] * 60
    fit = np.polyfit(t[half], rss[half], 1)
    second = fit[0] * 60
    rise = fit[0] * (t[half][-1] - t[half][0])
    noise = 2 * np.std(rss[half] - np.polyval(fit, t[half]))
    flat = second <= FLAT_MB_PER_MIN or rise <= noise
    verdict = "flat (no growth after warm-up)" if flat else "GROWING after warm-up"
    every = max(1, len(rss) // 12)
    return (
        f"server RSS MB: after warm-up ({warmup:.0f} s) {rss[warm][0]:.0f}, end {rss[-1]:.0f}, peak "
        f"{rss.max():.0f}; slope after warm-up {slope:+.1f} MB/min, over the second half "
        f"{second:+.1f} MB/min (fitted rise {rise:+.0f} MB, noise ±{noise:.0f} MB): {verdict}\n"
        f"RSS samples (MB, every {every} s): {' '.join(f'{r:.0f}' for r in rss[::every])}"
    )


if __name__ == "__main__":
    main()
