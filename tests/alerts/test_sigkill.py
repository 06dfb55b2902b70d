"""SIGKILL of the server between the alert change and the delivery loses nothing and duplicates nothing.

``mlwarden serve`` runs as a real process on a SQLite file; its sender is off (``--send-every 0``) so the
kill lands, every time, after the evaluation committed the alerts and their outbox rows and before any
delivery. After ``kill -9`` the server and a worker are started on the same store: both senders run, and
the local webhook receiver must get every notification key exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cli_process import mlwarden
from service_data import parquet_bytes, past_window, records, reference_frame
from sqlalchemy import select
from webhook_server import WebhookServer

from mlwarden.store import Store
from mlwarden.store.schema import OutboxEntry

CONFIG = """
model: churn
owner: {{name: Ada, email: ada@example.com, team: growth}}
runbook: https://wiki.example.com/churn
alerts:
  receivers:
    hub: {{webhook: {{url: "{url}/hook"}}}}
  route: {{receiver: hub, group_by: [column], group_wait: 0s}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], db: Path) -> subprocess.Popen:
    env = {**os.environ, "MLWARDEN_DB": str(db)}
    return subprocess.Popen(
        [sys.executable, "-m", "mlwarden", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def serve(db: Path, port: int, send_every: float) -> subprocess.Popen:
    process = start(
        ["serve", "--port", str(port), "--no-auth", "--evaluate-every", "0", "--send-every", str(send_every)],
        db,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"mlwarden serve did not start: {process.stderr.read().decode()[-2000:]}")


def pending(db: Path) -> list[str]:
    store = Store(db, migrate=False)
    try:
        with store.session() as session:
            return list(session.scalars(select(OutboxEntry.key).where(OutboxEntry.status == "pending")))
    finally:
        store.dispose()


def test_sigkill_between_the_outbox_write_and_delivery_loses_and_duplicates_nothing(tmp_path) -> None:
    db, port = tmp_path / "mlwarden.db", free_port()
    api = f"http://127.0.0.1:{port}"
    with WebhookServer() as hook:
        server = serve(db, port, send_every=0)
        try:
            (tmp_path / "churn.yaml").write_text(CONFIG.format(url=hook.url))
            applied = mlwarden("apply", "-f", tmp_path / "churn.yaml", "--url", api)  # registers churn
            assert applied.stdout.strip() == "churn: configuration version 1 applied", applied.stderr
            httpx.post(
                f"{api}/v1/models/churn/reference",
                content=parquet_bytes(reference_frame()),
                headers={"Content-Type": "application/vnd.apache.parquet"},
            ).raise_for_status()
            current = reference_frame(2_000, seed=3)
            current["x1"] += 0.8
            current["x2"] -= 0.8
            body = {"batch_id": "b-1", "records": records(current, past_window(), prefix="k", spacing=1)}
            httpx.post(f"{api}/v1/models/churn/batches", json=body, timeout=60).raise_for_status()
            assert httpx.post(f"{api}/v1/evaluate", timeout=120).json() == {"evaluated": 1}
            keys = pending(db)
            assert len(keys) >= 2  # one group per drifted column at least, written with the alert change
        finally:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        assert hook.requests == []  # killed before any delivery
        server = serve(db, port, send_every=0.1)
        worker = start(["worker", "--interval", "3600", "--send-every", "0.1"], db)
        try:
            deadline = time.monotonic() + 60
            while len(hook.keys()) < len(keys) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)  # both senders keep running: a duplicate would arrive now
        finally:
            for process in (server, worker):
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(20)
        assert sorted(hook.keys()) == sorted(keys)  # every notification once: none lost, none twice
        assert pending(db) == []
        columns = {a["labels"].get("column") for r in hook.requests for a in r["body"]["alerts"]}
        assert {"x1", "x2"} <= columns
