"""A due retrain is POSTed, signed, to a real local HTTP server: retried, recorded, never sent twice."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from retrain_service import register

from mlwarden.retrain.triggers import WindowStats, plan
from mlwarden.schema.retraining import RetrainSection, Triggers
from mlwarden.server import retrain_plan
from mlwarden.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify_signature
from mlwarden.store import Store
from mlwarden.store.schema import Model

SECRET = "s3cret-for-tests"


class Receiver(ThreadingHTTPServer):
    """Answers 503 to the first ``failures`` requests, then 200; keeps what it received."""

    def __init__(self, failures: int) -> None:
        self.failures, self.received = failures, []
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/retrain"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server: Receiver = self.server  # type: ignore[assignment]
        valid = verify_signature(self.headers[SIGNATURE_HEADER], body, SECRET)
        server.received.append((self.headers[IDEMPOTENCY_HEADER], valid, json.loads(body)))
        status = 503 if len(server.received) <= server.failures else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    server = Receiver(failures=1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_due_plan_is_posted_signed_once_with_retries_recorded(
    store: Store, receiver: Receiver, monkeypatch
) -> None:
    register(store)
    monkeypatch.setenv("CI_SECRET", SECRET)
    monkeypatch.setattr(retrain_plan, "BACKOFF", 0.05)
    section = RetrainSection.from_dict(
        {
            "notify": {"webhook": {"url": receiver.url, "secret": "${CI_SECRET}"}},
            "triggers": {"min_new_labels": 10},
        }
    )
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    windows = [WindowStats(start=now - timedelta(hours=1), end=now)]
    due = plan(
        Triggers(min_new_labels=10),
        windows,
        slo={},
        weights={},
        labelled_since=25,
        last_retrain=None,
        now=now,
    )
    with store.session() as session:
        model_id = session.query(Model).one().id

    retrain_plan.notify(store, model_id, due, section)
    retrain_plan.notify(store, model_id, due, section)  # the same firing again: not posted again

    assert [valid for _, valid, _ in receiver.received] == [True, True]  # a 503, then the retry's 200
    keys = {key for key, _, _ in receiver.received}
    assert len(keys) == 1 and next(iter(keys)).startswith("retrain-")
    payload = receiver.received[-1][2]
    assert payload["model"] == "churn" and payload["triggers"][0]["trigger"] == "new_labels"
    assert "25 labelled rows" in payload["triggers"][0]["reason"]
    with store.session() as session:
        (note,) = retrain_plan.notifications(session, model_id)
    assert (note["status"], note["attempts"], note["last_status"]) == ("delivered", 2, 200)

    monkeypatch.delenv("CI_SECRET")
    later = plan(
        Triggers(min_new_labels=10), windows, slo={}, weights={}, labelled_since=40, last_retrain=now, now=now
    )
    retrain_plan.notify(store, model_id, later, section)  # a new firing, but the secret is not set
    with store.session() as session:
        notes = retrain_plan.notifications(session, model_id)
    assert notes[-1]["status"] == "pending" and "CI_SECRET is not set" in notes[-1]["last_error"]
    assert len(receiver.received) == 2
