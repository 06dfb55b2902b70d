"""Delivery through the outbox to a real local webhook receiver: the Alertmanager v4 payload, its
signature and idempotency key, retries with backoff, dead letters, unset secrets, and two senders at once."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from alert_helpers import configure, drift, window
from sqlalchemy import select
from webhook_server import WebhookServer

from mlwarden.alerts import outbox
from mlwarden.alerts.outbox import RetryPolicy
from mlwarden.alerts.sender import send_due
from mlwarden.signing import SIGNATURE_HEADER, verify_signature
from mlwarden.store import Store
from mlwarden.store.schema import DeliveryAttempt, OutboxEntry

SECRET = "s3cr3t-value"


def hub(url: str, group_by: str = "[model]") -> str:
    return f"""
runbook: https://wiki.example.com/churn
alerts:
  receivers:
    hub: {{webhook: {{url: "{url}/hook", secret: "${{HUB_SECRET}}"}}}}
  route: {{receiver: hub, group_by: {group_by}, group_wait: 0s}}
"""


@pytest.fixture
def hook():
    with WebhookServer() as server:
        yield server


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def attempts(store: Store) -> list[tuple[str, str | None]]:
    with store.session() as session:
        rows = session.execute(
            select(DeliveryAttempt.status, DeliveryAttempt.error).order_by(DeliveryAttempt.id)
        )
        return [tuple(r) for r in rows]


def outbox_status(store: Store) -> list[str]:
    with store.session() as session:
        return list(session.scalars(select(OutboxEntry.status).order_by(OutboxEntry.id)))


def test_webhook_gets_alertmanager_v4_payload_signed_with_idempotency_key(store, hook, monkeypatch) -> None:
    monkeypatch.setenv("HUB_SECRET", SECRET)
    model = configure(store, hub(hook.url))
    window(store, model, [drift("x"), drift("y")], 0, now=datetime.now(UTC))
    assert send_due(store) == 1
    [request] = hook.requests
    body = request["body"]
    assert verify_signature(request["headers"][SIGNATURE_HEADER], request["raw"], SECRET)
    with store.session() as session:
        entry = session.scalar(select(OutboxEntry))
        assert request["headers"]["Idempotency-Key"] == entry.key and entry.status == "delivered"
        assert SECRET not in str(entry.receiver_spec)  # the reference is stored, never the value
    assert {k: body[k] for k in ("version", "status", "receiver", "groupLabels", "truncatedAlerts")} == {
        "version": "4",
        "status": "firing",
        "receiver": "hub",
        "groupLabels": {"model": "churn"},
        "truncatedAlerts": 0,
    }
    assert body["groupKey"] == '{}:{model="churn"}'
    assert body["commonLabels"] == {
        "alertname": "drift",
        "check": "drift",
        "model": "churn",
        "severity": "warning",
        "team": "growth",
    }
    assert body["commonAnnotations"]["runbook_url"] == "https://wiki.example.com/churn"
    x = body["alerts"][0]
    assert x["status"] == "firing" and x["labels"]["column"] == "x" and x["endsAt"] == "0001-01-01T00:00:00Z"
    assert x["annotations"]["description"] == "x drifted" and '"value": 0.3' in x["annotations"]["evidence"]
    assert len(x["fingerprint"]) == 32 and x["startsAt"].endswith("Z")
    assert attempts(store) == [("ok", None)]


def test_retries_back_off_and_keep_the_key(store, hook, monkeypatch) -> None:
    monkeypatch.setenv("HUB_SECRET", SECRET)
    model = configure(store, hub(hook.url))
    window(store, model, [drift("x")], 0, now=datetime.now(UTC))
    hook.statuses.extend([500, 503])
    assert send_due(store) == 0
    with store.session() as session:
        entry = session.scalar(select(OutboxEntry))
        wait = (entry.next_attempt_at - datetime.now(UTC)).total_seconds()
    assert 1.0 < wait <= 2.0  # base 2 s after the first failure
    assert send_due(store) == 0  # not due yet: nothing is sent
    assert len(attempts(store)) == 1
    assert send_due(store, now=later(2.5)) == 0  # second failure: 4 s
    assert send_due(store, now=later(7)) == 1
    assert attempts(store) == [
        ("failed", "webhook hub answered HTTP 500"),
        ("failed", "webhook hub answered HTTP 503"),
        ("ok", None),
    ]
    assert len(hook.requests) == 1 and outbox_status(store) == ["delivered"]
    with store.session() as session:
        [listed] = outbox.listed(session, model.id, "delivered", 10)
    assert (listed["receiver"], listed["kind"], listed["notification_status"]) == ("hub", "webhook", "firing")
    assert [a["status"] for a in listed["attempts"]] == ["failed", "failed", "ok"]


def test_dead_letters_after_max_attempts_or_a_client_error(store, hook, monkeypatch) -> None:
    monkeypatch.setenv("HUB_SECRET", SECRET)
    model = configure(store, hub(hook.url, group_by="[column]"))
    window(store, model, [drift("x")], 0, now=datetime.now(UTC))
    hook.statuses.extend([500, 500])
    policy = RetryPolicy(max_attempts=2, base=0.01)
    send_due(store, policy=policy)
    send_due(store, now=later(1), policy=policy)
    assert outbox_status(store) == ["dead"]
    window(store, model, [drift("x"), drift("y")], 1, now=datetime.now(UTC))
    hook.statuses.append(404)  # the receiver refuses it: retrying cannot help
    send_due(store, now=later(2), policy=policy)
    assert outbox_status(store) == ["dead", "dead"] and hook.requests == []
    assert attempts(store)[-1] == ("failed", "webhook hub answered HTTP 404")


def test_an_unset_secret_fails_the_attempt_naming_the_variable(store, hook, monkeypatch) -> None:
    monkeypatch.delenv("HUB_SECRET", raising=False)
    model = configure(store, hub(hook.url))
    window(store, model, [drift("x")], 0, now=datetime.now(UTC))
    send_due(store)
    assert attempts(store) == [
        ("failed", "hub.webhook.secret: environment variable HUB_SECRET is not set on the server")
    ]
    assert outbox_status(store) == ["dead"] and hook.requests == []


def test_two_senders_never_send_one_notification_twice(store, hook, monkeypatch) -> None:
    monkeypatch.setenv("HUB_SECRET", SECRET)
    model = configure(store, hub(hook.url, group_by="[column]"))
    window(store, model, [drift(f"c{i}") for i in range(30)], 0, now=datetime.now(UTC))
    other = Store(store.url, migrate=False)  # a second process's connection pool
    barrier = threading.Barrier(2)
    delivered: list[int] = []

    def run(target: Store) -> None:
        barrier.wait()
        for _ in range(5):
            delivered.append(send_due(target))

    threads = [threading.Thread(target=run, args=(s,)) for s in (store, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.dispose()
    keys = hook.keys()
    assert len(set(keys)) == 30 and sum(delivered) == 30
    assert outbox_status(store) == ["delivered"] * 30
    with store.session() as session:
        rows = session.execute(
            select(
                DeliveryAttempt.outbox_id,
                DeliveryAttempt.status,
                DeliveryAttempt.at,
                DeliveryAttempt.duration_ms,
            ).order_by(DeliveryAttempt.outbox_id, DeliveryAttempt.attempt)
        ).all()
    # every request the receiver got is one recorded attempt (a key arrives twice only when its first
    # answer was lost and the attempt recorded as failed: at-least-once, the key lets the receiver drop it)
    assert len(keys) == len(rows)
    by_entry: dict[int, list] = {}
    for entry, status, at, duration in rows:
        by_entry.setdefault(entry, []).append((status, at - timedelta(milliseconds=duration), at))
    for tries in by_entry.values():
        assert [t[0] for t in tries].count("ok") == 1 and tries[-1][0] == "ok"
        for earlier, later in itertools.pairwise(tries):
            assert later[1] >= earlier[2]  # never two senders on one notification at once
