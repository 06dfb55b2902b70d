"""The PagerDuty receiver: Events API v2 (``POST /v2/enqueue``).

A firing group is a ``trigger`` event, a resolved group a ``resolve`` event; both carry
``dedup_key`` = the alert group's fingerprint (:func:`~mlwarden.alerts.receivers.text.group_fingerprint`),
so PagerDuty keeps one incident per group, updates it on repeats and closes it on resolve. A trigger's
``payload`` holds ``summary`` (the title, ≤ 1024 characters), ``source`` (``mlwarden/<model>``),
``severity`` (critical, warning or info), ``timestamp``, ``component`` (the model), ``class`` (the check)
and ``custom_details`` (alerts with evidence, owner, model version); ``links`` point at the runbook and the
dashboard. PagerDuty answers 202; 400 (invalid event) is not retried, 429 and 5xx are.
"""

from __future__ import annotations

from typing import Any

import httpx

from mlwarden.alerts.errors import DeliveryError
from mlwarden.alerts.notification import Notification
from mlwarden.alerts.receivers import TIMEOUT, http_failure, transport_failure
from mlwarden.alerts.receivers import text as render
from mlwarden.errors import InputError
from mlwarden.schema import secrets
from mlwarden.schema.alerting import PagerDutyReceiver

SUMMARY_CHARS = 1024


def event(notification: Notification, routing_key: str) -> dict[str, Any]:
    """The Events v2 body for ``notification``."""
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger" if notification.status == "firing" else "resolve",
        "dedup_key": render.group_fingerprint(notification),
    }
    if notification.status != "firing":
        return body
    alerts = render.shown(notification)
    checks = sorted({a.labels.get("check") or a.labels.get("alertname", "alert") for a in alerts})
    details: dict[str, Any] = {
        "alerts": [
            {"alert": render.alert_line(a), "evidence": render.evidence(a), "since": a.starts_at.isoformat()}
            for a in alerts[: render.MAX_LISTED]
        ],
        **{name.lower(): value for name, value in render.facts(notification)},
    }
    if len(alerts) > render.MAX_LISTED:
        details["more_alerts"] = len(alerts) - render.MAX_LISTED
    body["payload"] = {
        "summary": render.title(notification)[:SUMMARY_CHARS],
        "source": f"mlwarden/{notification.model}",
        "severity": render.severity(notification),
        "timestamp": min(a.starts_at for a in alerts).isoformat(),
        "component": notification.model,
        "class": ", ".join(checks),
        "custom_details": details,
    }
    body["links"] = [{"href": url, "text": name} for name, url in render.links(notification)]
    return body


def send(config: PagerDutyReceiver, notification: Notification, client: httpx.Client) -> None:
    """POST :func:`event` to ``config.url``; raise :class:`DeliveryError` unless it is accepted (2xx).
    The routing key (a ``${ENV}`` reference resolved now) is never named in an error."""
    try:
        key = secrets.resolve(config.routing_key, field=f"{notification.receiver}.pagerduty.routing_key")
        url = secrets.resolve(config.url, field=f"{notification.receiver}.pagerduty.url")
    except InputError as exc:
        raise DeliveryError(str(exc), retryable=False) from None
    what = f"pagerduty {notification.receiver}"
    try:
        response = client.post(url, json=event(notification, key), timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise transport_failure(what, exc) from None
    if not response.is_success:
        failure = http_failure(what, response)
        detail = response.text.strip().replace(key, "***")[:300]
        raise DeliveryError(f"{failure}: {detail}", retryable=failure.retryable)
