"""Issue 12's chained scenario, on the real service (``mlwarden serve`` processes, the operator CLI, a local
webhook receiver and an aiosmtpd server), on SQLite and PostgreSQL.

One model file: an owner, a runbook, one-minute windows, a webhook and an email receiver for the owner
grouped by model, every alert firing after ``for: 2`` windows, and an escalation of unacknowledged critical
alerts to the on-call. Windows of the past few minutes (closed, past their grace) are fed one at a time,
each once the previous one is evaluated by the scheduler (at 1 s), so every step is decided by the data,
never by a race:

1. drifted traffic (x1 and x2 shifted by one standard deviation: critical drift) → the alerts are pending,
   nothing is sent; the owner acknowledges x2 while it is pending;
2. the same drift in the next window → the alerts fire; after ``group_wait`` exactly one grouped
   notification reaches the owner's webhook and the SMTP server, carrying the runbook and the dashboard
   link; x1, critical and unacknowledged, escalates to the on-call (x2 is acknowledged, warnings are not
   for that step);
3. a silence on x3 (CLI), then two windows where x3 drifts too → x3 fires, silenced: the flushes that
   follow send nothing; once the silence is lifted (CLI), the next flush notifies it;
4. the sender stops and fixed traffic comes → every alert resolves, the resolved notifications are
   written to the outbox with that change, and the server is killed (SIGKILL) before any delivery; a new
   server and a worker (two senders) then deliver the resolved notifications to the owner's webhook, the
   SMTP server and the on-call (its escalation resolved) — every key exactly once.

The server evaluates windows (its scheduler at 1 s); until step 4, notifications are delivered by a
``mlwarden worker`` beside it (the deployment ``serve --send-every 0`` + ``worker``), so that stopping
delivery needs no second server start (each costs seconds of imports).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
from alert_helpers import outbox_keys
from cli_process import mlwarden
from receiver_servers import SmtpServer
from serve_process import ServeProcess, start_worker
from service_data import parquet_bytes, records, reference_frame
from sqlalchemy import select
from webhook_server import WebhookServer

from mlwarden.registry import create_token
from mlwarden.store import Store
from mlwarden.store.schema import Alert, AlertGroup

RUNBOOK = "https://wiki.example.com/runbooks/churn"
EXTERNAL = "https://mlwarden.example.com"
GROUP_INTERVAL = 2.0  # seconds
CONFIG = """
model: churn
owner: {{name: Ada Lovelace, email: ada@example.com, team: growth}}
runbook: {runbook}
window: 1m
columns: {{target: label, prediction: prediction, scores: score}}
alerts:
  receivers:
    owner-hook: {{webhook: {{url: "{hook}/owner"}}}}
    owner-mail: {{email: {{to: [ada@example.com], sender: mlwarden@example.com,
                          smtp: {{host: 127.0.0.1, port: {smtp}}}}}}}
    oncall: {{webhook: {{url: "{hook}/oncall"}}}}
  route:
    receivers: [owner-hook, owner-mail]
    group_by: [model]
    group_wait: 1s
    group_interval: {interval}s
    repeat_interval: 4h
  rules: [{{for: 2}}]
  escalate: [{{after: 2s, receiver: oncall, match: {{severity: critical}}}}]
"""


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Scenario:
    """The model's traffic and what the test reads back, against the server at ``url``."""

    def __init__(self, url: str, token: str, hook: WebhookServer, smtp: SmtpServer) -> None:
        self.url, self.token, self.hook, self.smtp = url, token, hook, smtp
        self.first = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
        self.windows = 0

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=120)

    def cli(self, *args: str) -> str:
        done = mlwarden(*args, "--url", self.url, "--token", self.token)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def traffic(self, frame: pd.DataFrame) -> None:
        """``frame`` as the next one-minute window's batch; returns once the scheduler evaluated it."""
        start = self.first + timedelta(minutes=self.windows)
        self.windows += 1
        body = {"batch_id": f"b{self.windows}", "records": records(frame, start, prefix=f"w{self.windows}")}
        with self.client() as client:
            client.post("/v1/models/churn/batches", json=body).raise_for_status()

            def evaluated() -> bool:
                rows = client.get("/v1/models/churn/windows", params={"limit": 50}).json()
                return any(datetime.fromisoformat(w["start"]) == start and w["evaluated_at"] for w in rows)

            wait_for(f"window {self.windows} evaluated", evaluated)

    def alerts(self, status: str = "all") -> dict[tuple[str, str | None], dict]:
        """``{(check, column): alert}`` of the latest alert per fingerprint."""
        with self.client() as client:
            rows = client.get("/v1/alerts", params={"status": status}).json()
        out: dict[tuple[str, str | None], dict] = {}
        for row in sorted(rows, key=lambda r: r["id"]):
            out[row["check"], row["column"]] = row
        return out

    def sent(self, path: str) -> list[dict]:
        """The webhook bodies received on ``path``, in order."""
        return [r["body"] for r in self.hook.requests if r["path"] == path]

    def mails(self) -> list[str]:
        """The subjects of the emails received, in order (unfolded)."""
        return [m["Subject"].replace("\r\n", "") for m in self.smtp.mailbox.messages]


def drifted(x3: float = 0.0) -> pd.DataFrame:
    """The same 1,000 rows every drifted window (so each finds the same problems), x1 and x2 shifted by one
    standard deviation (critical drift), x3 by ``x3``."""
    frame = reference_frame(1_000, seed=3)
    frame["x1"] += 1.0
    frame["x2"] -= 1.0
    frame["x3"] += x3
    return frame


def firing_columns(body: dict) -> set[str]:
    """The columns whose drift a webhook notification reports firing."""
    alerts = body["alerts"]
    return {
        a["labels"]["column"] for a in alerts if a["status"] == "firing" and a["labels"]["check"] == "drift"
    }


def test_drift_fires_after_for_windows_notifies_once_silences_escalates_resolves_and_survives_sigkill(
    store: Store, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("MLWARDEN_EXTERNAL_URL", EXTERNAL)  # the dashboard link in notifications
    token = create_token(store, team="growth", name="ada", scopes=["admin"])
    db, log = store.url, tmp_path / "serve.log"
    with WebhookServer() as hook, SmtpServer() as smtp:
        # the server evaluates (scheduler at 1 s); a worker beside it delivers (its sender every 0.2 s)
        sender = start_worker(db, log, "--interval", "3600", "--send-every", "0.2")
        server = ServeProcess(db, log, "--evaluate-every", "1", "--send-every", "0")
        s = Scenario(server.url, token, hook, smtp)
        try:
            server.start()
            config = CONFIG.format(runbook=RUNBOOK, hook=hook.url, smtp=smtp.port, interval=GROUP_INTERVAL)
            (tmp_path / "churn.yaml").write_text(config)
            assert s.cli("apply", "-f", str(tmp_path / "churn.yaml")).strip() == (
                "churn: configuration version 1 applied"
            )
            with s.client() as client:
                client.post(
                    "/v1/models/churn/reference",
                    content=parquet_bytes(reference_frame()),
                    headers={"Content-Type": "application/vnd.apache.parquet"},
                ).raise_for_status()

            # 1. drifted traffic: pending, nothing sent; the owner takes x2
            s.traffic(drifted())
            alerts = s.alerts()
            assert {a["status"] for a in alerts.values()} == {"pending"}
            assert alerts["drift", "x1"]["severity"] == alerts["drift", "x2"]["severity"] == "critical"
            with s.client() as client:
                assert client.get("/v1/models/churn/notifications").json() == []
            with s.client() as client:
                client.post(f"/v1/alerts/{alerts['drift', 'x2']['id']}/ack").raise_for_status()

            # 2. the drift again: firing; one grouped notification to the webhook and by email; x1 escalates
            s.traffic(drifted())
            alerts = s.alerts()
            assert {a["status"] for a in alerts.values()} == {"firing"}
            wait_for("the grouped notification", lambda: s.sent("/owner") and s.mails())
            wait_for("the escalation", lambda: s.sent("/oncall"))
            [grouped] = s.sent("/owner")
            assert grouped["status"] == "firing" and grouped["groupLabels"] == {"model": "churn"}
            assert firing_columns(grouped) == {"x1", "x2"}
            assert len(grouped["alerts"]) == len(alerts)  # every alert of the model, in one group
            for alert in grouped["alerts"]:
                assert alert["annotations"]["runbook_url"] == RUNBOOK
                assert alert["annotations"]["dashboard_url"] == f"{EXTERNAL}/models/churn"
            [mail] = smtp.mailbox.messages
            [subject] = s.mails()
            assert subject.startswith("[FIRING:4 critical] churn:") and "drift on x1, x2" in subject
            assert mail["To"] == "ada@example.com"
            body = mail.get_payload(decode=True).decode()
            assert f"Runbook: {RUNBOOK}" in body and f"Dashboard: {EXTERNAL}/models/churn" in body
            [escalated] = s.sent("/oncall")
            assert [(a["labels"]["column"], a["labels"]["severity"]) for a in escalated["alerts"]] == [
                ("x1", "critical")
            ]
            assert "unacknowledged" in escalated["alerts"][0]["annotations"]["escalation"]
            # every alert fired at once, so any other escalation would have been written in the same round;
            # the receiver answers before the sender records the delivery, so wait for that record
            x1 = alerts["drift", "x1"]["id"]
            wait_for("the escalation recorded", lambda: f"escalate-{x1}-0" in outbox_keys(store, "delivered"))
            assert [k for k in outbox_keys(store, "delivered") if k.startswith("escalate-")] == [
                f"escalate-{x1}-0"
            ]

            # 3. a silence stops the next notification (x3 joining the group); lifting it lets it through
            silenced = s.cli("alerts", "silence", "model=churn", "column=x3", "--duration", "1h",
                             "--comment", "x3 backfill, INC-7")  # fmt: skip
            silence = silenced.split()[1]
            s.traffic(drifted(x3=0.15))
            s.traffic(drifted(x3=0.15))
            x3 = s.alerts()["drift", "x3"]
            assert (x3["status"], x3["severity"]) == ("firing", "warning")  # not for the on-call
            assert ("drift", "x3") in s.alerts("silenced")
            fired = datetime.fromisoformat(x3["fired_at"])

            def flushed_since_x3_fired() -> bool:
                with store.session() as session:
                    due = session.scalars(select(AlertGroup.next_flush_at)).all()
                return len(due) == 2 and all(d >= fired + timedelta(seconds=GROUP_INTERVAL) for d in due)

            wait_for("a flush of both groups after x3 fired", flushed_since_x3_fired)
            time.sleep(0.5)  # a notification written by that flush is delivered within a sender round
            assert len(s.sent("/owner")) == 1 and len(s.mails()) == 1  # the silence held it back
            with s.client() as client:
                client.delete(f"/v1/silences/{silence}").raise_for_status()
            wait_for("x3 notified", lambda: len(s.sent("/owner")) == 2 and len(s.mails()) == 2)
            assert firing_columns(s.sent("/owner")[1]) == {"x1", "x2", "x3"}
            assert "x3" in s.mails()[1]

            # 4. no sender runs; fixed traffic resolves everything; SIGKILL between that change and delivery
            wait_for("every delivery recorded", lambda: outbox_keys(store, "pending") == [])
            sender.terminate()
            sender.wait(20)
            with store.session() as session:
                due = max(d for d in session.scalars(select(AlertGroup.next_flush_at)))
            time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))  # groups flush with the change
            s.traffic(reference_frame(1_000, seed=4))
            assert {a["status"] for a in s.alerts().values()} == {"resolved"}
            resolved = outbox_keys(store, "pending")
            assert len(resolved) == 2  # the owner's webhook and email, written with the alerts' change
        finally:
            server.kill()
            sender.kill()
            sender.wait(20)
        assert len(s.sent("/owner")) == 2 and len(s.mails()) == 2 and len(s.sent("/oncall")) == 1
        worker = start_worker(db, log, "--interval", "3600", "--send-every", "0.2")
        server = ServeProcess(db, log, "--evaluate-every", "1", "--send-every", "0.2", port=server.port)
        try:
            server.start()
            wait_for(
                "the resolved notifications",
                lambda: len(s.sent("/owner")) == 3 and len(s.mails()) == 3 and len(s.sent("/oncall")) == 2,
            )
            time.sleep(1.0)  # both senders keep running: a duplicate would arrive now
        finally:
            worker.terminate()
            server.stop()
            worker.wait(20)

    owner, oncall = s.sent("/owner"), s.sent("/oncall")
    assert [b["status"] for b in owner] == ["firing", "firing", "resolved"]
    assert {a["status"] for a in owner[2]["alerts"]} == {"resolved"}
    assert {a["labels"].get("column") for a in owner[2]["alerts"]} >= {"x1", "x2", "x3"}
    assert s.mails()[2].startswith("[RESOLVED] churn:")
    assert [(b["status"], b["alerts"][0]["labels"]["column"]) for b in oncall] == [
        ("firing", "x1"),
        ("resolved", "x1"),
    ]
    keys = hook.keys() + [m["Message-ID"].strip("<>").split("@")[0] for m in smtp.mailbox.messages]
    assert len(keys) == len(set(keys)) == 3 + 2 + 3  # no notification twice ...
    assert sorted(keys) == sorted(outbox_keys(store, "delivered"))  # ... and none lost
    assert set(resolved) <= set(keys) and outbox_keys(store, "pending") == []
    with store.session() as session:
        assert {a.status for a in session.scalars(select(Alert))} == {"resolved"}
