"""A due retrain is POSTed, signed, to a real local HTTP server: retried, recorded, never sent twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alerts.webhook_server import WebhookServer
from retrain_service import register

from mlwarden.retrain.triggers import WindowStats, plan
from mlwarden.schema.retraining import RetrainSection, Triggers
from mlwarden.server import retrain_plan
from mlwarden.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify_signature
from mlwarden.store import Store
from mlwarden.store.schema import Model

SECRET = "s3cret-for-tests"


@pytest.fixture
def hook():
    with WebhookServer() as server:
        yield server


def test_a_due_plan_is_posted_signed_once_with_retries_recorded(
    store: Store, hook: WebhookServer, monkeypatch
) -> None:
    register(store)
    hook.statuses.append(503)  # the first attempt fails, the retry is delivered
    monkeypatch.setenv("CI_SECRET", SECRET)
    monkeypatch.setattr(retrain_plan, "BACKOFF", 0.05)
    section = RetrainSection.from_dict(
        {
            "notify": {"webhook": {"url": f"{hook.url}/hooks/retrain", "secret": "${CI_SECRET}"}},
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

    (delivered,) = hook.requests  # a 503 first, then the retry's 200; the second call posted nothing
    assert verify_signature(delivered["headers"][SIGNATURE_HEADER], delivered["raw"], SECRET)
    assert delivered["headers"][IDEMPOTENCY_HEADER].startswith("retrain-")
    payload = delivered["body"]
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
    assert len(hook.requests) == 1
