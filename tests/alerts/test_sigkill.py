"""SIGKILL of the server between the alert change and the delivery loses nothing and duplicates nothing.

``mlwarden serve`` runs as a real process on a SQLite file; its sender is off (``--send-every 0``) so the
kill lands, every time, after the evaluation committed the alerts and their outbox rows and before any
delivery. After ``kill -9`` the server and a worker are started on the same store: both senders run, and
the local webhook receiver must get every notification key exactly once; a worker stopped by SIGTERM
records the delivery under way before it exits. (The chained scenario,
``test_alert_scenario.py``, kills the server the same way between an alert's resolution and its resolved
notifications, on both backends.)
"""

from __future__ import annotations

import time

import httpx
from alert_helpers import configure, drift, outbox_keys, window
from cli_process import mlwarden
from receiver_servers import HttpRecorder
from serve_process import ServeProcess, start_worker
from service_data import parquet_bytes, past_window, records, reference_frame
from webhook_server import WebhookServer

from mlwarden.store import Store

CONFIG = """
model: churn
owner: {{name: Ada, email: ada@example.com, team: growth}}
runbook: https://wiki.example.com/churn
alerts:
  receivers:
    hub: {{webhook: {{url: "{url}/hook"}}}}
  route: {{receiver: hub, group_by: [column], group_wait: 0s}}
"""


def test_sigkill_between_the_outbox_write_and_delivery_loses_and_duplicates_nothing(tmp_path) -> None:
    store = Store(tmp_path / "mlwarden.db")
    db, log = store.url, tmp_path / "serve.log"
    with WebhookServer() as hook:
        server = ServeProcess(db, log, "--no-auth", "--evaluate-every", "0", "--send-every", "0").start()
        try:
            api = server.url
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
            keys = outbox_keys(store, "pending")
            assert len(keys) >= 2  # one group per drifted column at least, written with the alert change
        finally:
            server.kill()
        assert hook.requests == []  # killed before any delivery
        server = ServeProcess(db, log, "--no-auth", "--evaluate-every", "0", "--send-every", "0.1").start()
        worker = start_worker(db, log, "--interval", "3600", "--send-every", "0.1")
        try:
            deadline = time.monotonic() + 60
            while len(hook.keys()) < len(keys) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)  # both senders keep running: a duplicate would arrive now
        finally:
            worker.terminate()
            server.stop()
            worker.wait(20)
        assert sorted(hook.keys()) == sorted(keys)  # every notification once: none lost, none twice
        assert outbox_keys(store, "pending") == []
        columns = {a["labels"].get("column") for r in hook.requests for a in r["body"]["alerts"]}
        assert {"x1", "x2"} <= columns
    store.dispose()


def test_a_worker_stopped_by_sigterm_records_the_delivery_under_way(tmp_path) -> None:
    store = Store(tmp_path / "mlwarden.db")
    with HttpRecorder(delay=2.0) as slow:  # answers each notification 2 s after it arrived
        hub = f'{{webhook: {{url: "{slow.url}/hook"}}}}'
        model = configure(
            store, f"alerts:\n  receivers: {{hub: {hub}}}\n  route: {{receiver: hub, group_wait: 0s}}"
        )
        window(store, model, [drift("x")], 0)  # fires: its notification is in the outbox
        worker = start_worker(store.url, tmp_path / "worker.log", "--interval", "3600", "--send-every", "0.1")
        try:
            deadline = time.monotonic() + 60
            while not slow.requests and time.monotonic() < deadline:
                time.sleep(0.05)
            assert slow.requests, (tmp_path / "worker.log").read_text()[-2000:]
        finally:
            worker.terminate()  # while the receiver has not answered yet
            assert worker.wait(30) == 0
    sent = [r.headers["Idempotency-Key"] for r in slow.requests]
    assert sorted(outbox_keys(store, "delivered")) == sorted(sent)  # recorded: never sent a second time
    store.dispose()
