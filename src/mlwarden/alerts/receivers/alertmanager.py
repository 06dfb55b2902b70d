"""The Alertmanager receiver: hand alerts to a Prometheus Alertmanager (``POST /api/v2/alerts``), for teams
that already route, silence and page with it.

Each alert keeps its labels (``alertname``, ``model``, ``check``, ``severity``, ``column``, ``segment``),
so Alertmanager's own fingerprint, grouping and silences work on them; annotations add the owner, the model
version, the runbook and the dashboard. A resolved alert is posted with ``endsAt`` = when it resolved (in
the past: Alertmanager resolves it). A firing alert gets ``endsAt`` = now + :data:`FIRING_TTL`: mlwarden
re-sends it every ``repeat_interval`` (4 h by default), so it stays active, and an alert nobody re-sends or
resolves — mlwarden gone — expires on its own a day later. Posting the same alert twice is harmless
(Alertmanager merges by label set), which makes retries safe.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from mlwarden.alerts.errors import DeliveryError
from mlwarden.alerts.notification import Notification
from mlwarden.alerts.receivers import TIMEOUT, http_failure, transport_failure
from mlwarden.errors import InputError
from mlwarden.schema import secrets
from mlwarden.schema.alerting import AlertmanagerReceiver
from mlwarden.signing import IDEMPOTENCY_HEADER

FIRING_TTL = timedelta(hours=24)


def alerts(notification: Notification, now: datetime | None = None) -> list[dict[str, Any]]:
    """The v2 ``postableAlerts`` body for ``notification`` (empty label values dropped, as Alertmanager
    treats an empty label as absent)."""
    now = now or datetime.now(UTC)
    extra = {
        "owner": notification.owner,
        "model_version": notification.model_version,
        "runbook_url": notification.runbook,
        "dashboard_url": notification.dashboard_url,
    }
    out = []
    for alert in notification.alerts:
        ends = (alert.ends_at or now) if alert.status == "resolved" else now + FIRING_TTL
        annotations = {**{k: v for k, v in extra.items() if v}, **alert.annotations}
        out.append(
            {
                "labels": {k: str(v) for k, v in alert.labels.items() if v not in (None, "")},
                "annotations": {k: str(v) for k, v in annotations.items()},
                "startsAt": alert.starts_at.isoformat(),
                "endsAt": ends.isoformat(),
                "generatorURL": annotations.get("dashboard_url", notification.external_url or ""),
            }
        )
    return out


def send(config: AlertmanagerReceiver, notification: Notification, client: httpx.Client) -> None:
    """POST :func:`alerts` to ``<url>/api/v2/alerts``; raise :class:`DeliveryError` unless it answers 2xx
    (400, a rejected alert, is not retried; 5xx and unreachable are)."""
    try:
        base = secrets.resolve(config.url, field=f"{notification.receiver}.alertmanager.url")
    except InputError as exc:
        raise DeliveryError(str(exc), retryable=False) from None
    what = f"alertmanager {notification.receiver}"
    try:
        response = client.post(
            f"{base.rstrip('/')}/api/v2/alerts",
            json=alerts(notification),
            headers={IDEMPOTENCY_HEADER: notification.key},
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise transport_failure(what, exc) from None
    if not response.is_success:
        failure = http_failure(what, response)
        raise DeliveryError(f"{failure}: {response.text.strip()[:300]}", retryable=failure.retryable)
