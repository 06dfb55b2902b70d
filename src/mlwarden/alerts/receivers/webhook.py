"""The generic webhook receiver: Alertmanager's webhook payload (version 4), HMAC-SHA256 signed.

The JSON body is the one Prometheus Alertmanager posts to a ``webhook_config`` (``version: "4"``,
``groupKey``, ``truncatedAlerts``, ``status``, ``receiver``, ``groupLabels``, ``commonLabels``,
``commonAnnotations``, ``externalURL``, ``alerts[]`` with ``status``, ``labels``, ``annotations``,
``startsAt``, ``endsAt``, ``generatorURL``, ``fingerprint``), so tools written for Alertmanager read it
as is. With a ``secret`` the request carries ``X-Mlwarden-Signature`` (:mod:`mlwarden.signing`); every
request carries ``Idempotency-Key`` (the notification's key: one value however often it is retried).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from mlwarden.alerts.errors import DeliveryError
from mlwarden.alerts.notification import Notification
from mlwarden.alerts.receivers import TIMEOUT, http_failure, transport_failure
from mlwarden.errors import InputError
from mlwarden.schema import secrets
from mlwarden.schema.alerting import WebhookReceiver
from mlwarden.signing import post_signed

# Alertmanager's "not ended yet": the zero time of Go
_NOT_ENDED = "0001-01-01T00:00:00Z"


def payload(notification: Notification) -> dict[str, Any]:
    """The Alertmanager webhook v4 body for ``notification``."""
    group = ", ".join(f'{k}="{v}"' for k, v in sorted(notification.group_labels.items()))
    return {
        "version": "4",
        "groupKey": f"{{}}:{{{group}}}",
        "truncatedAlerts": 0,
        "status": notification.status,
        "receiver": notification.receiver,
        "groupLabels": notification.group_labels,
        "commonLabels": notification.common_labels(),
        "commonAnnotations": notification.common_annotations(),
        "externalURL": notification.external_url or "",
        "alerts": [
            {
                "status": alert.status,
                "labels": alert.labels,
                "annotations": alert.annotations,
                "startsAt": _rfc3339(alert.starts_at),
                "endsAt": _rfc3339(alert.ends_at) if alert.ends_at else _NOT_ENDED,
                "generatorURL": alert.annotations.get("dashboard_url", notification.dashboard_url or ""),
                "fingerprint": alert.fingerprint,
            }
            for alert in notification.alerts
        ],
    }


def send(config: WebhookReceiver, notification: Notification, client: httpx.Client) -> None:
    """POST :func:`payload` to ``config.url``; raise :class:`DeliveryError` unless it answers 2xx.

    ``${ENV}`` references in the URL and the secret are resolved now; an unset one is a non-retryable
    error naming the variable (never its value)."""
    try:
        url = secrets.resolve(config.url, field=f"{notification.receiver}.webhook.url")
        secret = (
            secrets.resolve(config.secret, field=f"{notification.receiver}.webhook.secret")
            if config.secret
            else None
        )
    except InputError as exc:
        raise DeliveryError(str(exc), retryable=False) from None
    what = f"webhook {notification.receiver}"
    try:
        response = post_signed(
            url,
            payload(notification),
            secret=secret,
            idempotency_key=notification.key,
            timeout=TIMEOUT,
            client=client,
        )
    except httpx.HTTPError as exc:
        raise transport_failure(what, exc) from None
    if not response.is_success:
        raise http_failure(what, response)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
