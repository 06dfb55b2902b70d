"""Receivers: ``deliver(spec, notification)`` sends a notification to one configured receiver.

Each kind is a module here with ``send(config, notification, client: httpx.Client) -> None`` that raises
:class:`~mlwarden.alerts.errors.DeliveryError` on failure (``retryable`` says whether the sender retries).
"""

from __future__ import annotations

import importlib

import httpx

from mlwarden.alerts.errors import DeliveryError
from mlwarden.alerts.notification import Notification
from mlwarden.schema.alerting import ReceiverSpec

TIMEOUT = 10.0  # seconds per request to a receiver


def deliver(spec: ReceiverSpec, notification: Notification, client: httpx.Client | None = None) -> None:
    """Send ``notification`` to the receiver ``spec`` describes; raise :class:`DeliveryError` on failure."""
    try:
        module = importlib.import_module(f"mlwarden.alerts.receivers.{spec.kind}")
    except ModuleNotFoundError:
        raise DeliveryError(
            f"receiver {spec.name}: kind {spec.kind!r} is not supported", retryable=False
        ) from None
    if client is not None:
        module.send(spec.config, notification, client)
        return
    with httpx.Client(timeout=TIMEOUT) as owned:
        module.send(spec.config, notification, owned)


def http_failure(what: str, response: httpx.Response) -> DeliveryError:
    """The :class:`DeliveryError` for a non-2xx answer: 408, 429 and 5xx are retried, other 4xx are not."""
    retryable = response.status_code in (408, 429) or response.status_code >= 500
    return DeliveryError(f"{what} answered HTTP {response.status_code}", retryable=retryable)


def transport_failure(what: str, exc: httpx.HTTPError) -> DeliveryError:
    """A request that could not be made (refused, timed out): retried."""
    return DeliveryError(f"{what} unreachable: {type(exc).__name__}: {exc}", retryable=True)
