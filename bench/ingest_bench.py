"""Ingestion benchmark: a real `mlwarden serve` on loopback, concurrent clients posting 1,000-row batches.

    .venv/bin/python bench/ingest_bench.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/ingest_bench.py --backend postgresql --batches 600 --clients 8 --format arrow
    .venv/bin/python bench/ingest_bench.py --backend postgresql --format arrow --servers 1,2

Each batch has 20 numeric features, a prediction, a score and ids. Body formats: ``arrow`` (an Arrow IPC
table with the model's role columns, timestamps included), ``records`` (the JSON records' layout as Arrow,
what ``Warden(wire="arrow")`` sends) and ``json`` (what ``Warden()`` sends). Prints rows/s, p50/p99 latency
per batch, and the server's peak resident memory (VmHWM, summed over processes), per backend and body format.
``--servers 1,2`` compares one server process with two replicas on the same store (clients alternate).
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc

ROOT = Path(__file__).resolve().parent.parent
MLWARDEN = ROOT / ".venv" / "bin" / "mlwarden"
POSTGRES = os.environ.get(
    "MLWARDEN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/mlwarden_bench"
)
FEATURES = 20


def frame(rows: int, rng: np.random.Generator, offset: int) -> pd.DataFrame:
    data = {f"f{i}": rng.normal(size=rows) for i in range(FEATURES)}
    score = rng.random(rows)
    data |= {"prediction": (score > 0.5).astype(int), "score": score}
    data["id"] = [f"p{offset + i}" for i in range(rows)]
    data["timestamp"] = pd.Timestamp.now(tz="UTC")
    return pd.DataFrame(data)


def arrow_body(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def json_body(df: pd.DataFrame, batch_id: str) -> dict:
    features = df[[f"f{i}" for i in range(FEATURES)]].to_dict("records")
    return {
        "batch_id": batch_id,
        "records": [
            {"id": i, "features": f, "prediction": int(p), "score": float(s)}
            for i, f, p, s in zip(df["id"], features, df["prediction"], df["score"], strict=True)
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reset_postgres(url: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run(
    backend: str, fmt: str, batches: int, clients: int, rows: int, workdir: Path, servers: int = 1
) -> dict:
    db = str(workdir / f"bench-{fmt}.db") if backend == "sqlite" else POSTGRES
    if backend == "postgresql":
        reset_postgres(POSTGRES)
    env = {**os.environ, "MLWARDEN_DB": db}
    create = [str(MLWARDEN), "tokens", "create", "--team", "bench", "--scope", "admin"]
    token = subprocess.run(create, env=env, check=True, capture_output=True, text=True).stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    log = workdir / f"server-{backend}-{fmt}-{servers}.log"
    processes, urls = [], []
    for _ in range(servers):  # replicas on one store, each its own process and port
        port = free_port()
        serve = ["serve", "--port", str(port), "--evaluate-every", "0", "--log-level", "warning"]
        processes.append(
            subprocess.Popen([str(MLWARDEN), *serve], env=env, stderr=open(log, "a"))  # noqa: SIM115
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            for _ in range(200):
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        with httpx.Client(base_url=urls[0], timeout=60, headers=headers) as client:
            client.post("/v1/models", json={"name": "bench", "team": "bench"}).raise_for_status()
            rng = np.random.default_rng(0)
            reference = frame(20_000, rng, 0).drop(columns=["id", "timestamp"])
            buffer = io.BytesIO()
            reference.to_parquet(buffer)
            client.post(
                "/v1/models/bench/reference",
                content=buffer.getvalue(),
                headers={"Content-Type": "application/vnd.apache.parquet"},
            ).raise_for_status()
            frames = [frame(rows, rng, (i + 1) * rows) for i in range(min(batches, 50))]
            if fmt == "arrow":
                tables = [pa.Table.from_pandas(f, preserve_index=False) for f in frames]
            elif fmt == "records":  # what Warden(wire="arrow") sends: the JSON records' layout in Arrow
                tables = [pa.Table.from_pylist(json_body(f, "x")["records"]) for f in frames]
            else:
                import json

                bodies = [json.dumps(json_body(f, "x")).encode() for f in frames]

        local = threading.local()

        def send(i: int) -> float:
            # every batch gets its own prediction ids, as in production (repeated ids index differently)
            if fmt in ("arrow", "records"):
                table = tables[i % len(tables)]
                ids = pc.binary_join_element_wise(f"b{i}-", table["id"].cast(pa.string()), "")
                body = arrow_body(table.set_column(table.column_names.index("id"), "id", ids))
            else:
                body = bodies[i % len(bodies)].replace(b'"id": "p', f'"id": "b{i}-p'.encode())
            if not hasattr(local, "clients"):
                local.clients = [httpx.Client(base_url=url, timeout=60, headers=headers) for url in urls]
            c = local.clients[i % servers]  # batches spread over the replicas
            start = time.perf_counter()
            if fmt in ("arrow", "records"):
                layout = "records" if fmt == "records" else "columns"
                response = c.post(
                    f"/v1/models/bench/batches?batch_id=b{i}&layout={layout}",
                    content=body,
                    headers={"Content-Type": "application/vnd.apache.arrow.stream"},
                )
            else:
                patched = body.replace(b'"batch_id": "x"', f'"batch_id": "b{i}"'.encode(), 1)
                response = c.post(
                    "/v1/models/bench/batches",
                    content=patched,
                    headers={"Content-Type": "application/json"},
                )
            response.raise_for_status()
            return time.perf_counter() - start

        # warm-up (imports, caches), then the timed run
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send, range(batches, batches + clients * 2)))
            start = time.perf_counter()
            latencies = np.array(list(pool.map(send, range(batches))))
            wall = time.perf_counter() - start
        return {
            "backend": backend,
            "format": fmt,
            "servers": servers,
            "rows_per_s": batches * rows / wall,
            "p50_ms": float(np.percentile(latencies, 50) * 1000),
            "p99_ms": float(np.percentile(latencies, 99) * 1000),
            "server_peak_mb": sum(peak_rss_mb(p.pid) for p in processes),
        }
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        errors = [line for line in log.read_text().splitlines() if '"error"' in line]
        if errors:
            print(f"server errors ({len(errors)}), first: {errors[0][:2000]}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--format", choices=["arrow", "json", "records", "all"], default="all")
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rows", type=int, default=1_000)
    parser.add_argument(
        "--servers", default="1", help="server processes on one store, compared: e.g. 1,2 (replicas)"
    )
    args = parser.parse_args()
    replicas = [int(n) for n in args.servers.split(",")]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    formats = ["arrow", "records", "json"] if args.format == "all" else [args.format]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            for fmt in formats:
                for servers in replicas:
                    results.append(
                        run(backend, fmt, args.batches, args.clients, args.rows, Path(tmp), servers)
                    )
                    r = results[-1]
                    print(f"  done {backend}/{fmt}/{servers}: {r['rows_per_s']:,.0f} rows/s", file=sys.stderr)
    print(f"\n{args.batches} batches of {args.rows:,} rows x {FEATURES} features, {args.clients} clients")
    print(
        f"{'backend':<11} {'body':<6} {'servers':>7} {'rows/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'server peak MB':>15}"
    )
    for r in results:
        print(
            f"{r['backend']:<11} {r['format']:<6} {r['servers']:>7} {r['rows_per_s']:>10,.0f} "
            f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['server_peak_mb']:>15.0f}"
        )
    print("target (PostgreSQL): >= 100,000 rows/s, p99 <= 100 ms per 1,000-row batch")


if __name__ == "__main__":
    main()
