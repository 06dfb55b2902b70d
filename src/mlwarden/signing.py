"""Signed HTTP POSTs: the HMAC-SHA256 signature that webhook receivers and the retrain hook carry.

The header is ``X-Mlwarden-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` — the
scheme Stripe documents for its webhooks: the timestamp inside the signed text stops a captured request
from being replayed later, and a receiver checks it with :func:`verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Mlwarden-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def signature_header(body: bytes, secret: str, *, now: float | None = None) -> str:
    """The value of :data:`SIGNATURE_HEADER` for ``body`` signed with ``secret`` at ``now`` (unix seconds)."""
    stamp = int(time.time() if now is None else now)
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def verify_signature(
    header: str, body: bytes, secret: str, *, tolerance_seconds: float = 300, now: float | None = None
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is within ``tolerance_seconds``
    of ``now``. Malformed headers are False, never an exception."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        stamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance_seconds:
        return False
    expected = signature_header(body, secret, now=stamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def post_signed(
    url: str,
    payload: Any,
    *,
    secret: str | None,
    idempotency_key: str,
    timeout: float = 10.0,
    client: httpx.Client | None = None,
) -> httpx.Response:
    """POST ``payload`` as JSON to ``url`` with an idempotency key and, when ``secret`` is given, a
    signature. Returns the response (the caller decides what a status means); raises ``httpx.HTTPError``
    when the request could not be made."""
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: idempotency_key}
    if secret:
        headers[SIGNATURE_HEADER] = signature_header(body, secret)
    if client is not None:
        return client.post(url, content=body, headers=headers, timeout=timeout)
    with httpx.Client() as owned:
        return owned.post(url, content=body, headers=headers, timeout=timeout)
