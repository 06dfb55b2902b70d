"""Dashboard sessions: a token exchanged for a signed, stateless cookie, and CSRF tokens for every form.

The cookie holds the token's SHA-256 digest (never the token) and a random nonce, signed with
:func:`mlwarden.signing.signature_header` (HMAC-SHA256 over ``"<t>.<payload>"``): a forged or expired cookie
fails :func:`~mlwarden.signing.verify_signature`, and every request looks the digest up again, so revoking the
token ends its sessions (within the API's cache time). It is ``HttpOnly`` (no script reads it) and
``SameSite=Strict`` (no other site's page sends it). A form's CSRF token is an HMAC of the session's nonce:
a page of this session can show it, no other page can compute it.

The signing secret is ``$MLWARDEN_SESSION_SECRET``; without it each server process draws a random one
(sessions then end when it restarts, and replicas need the variable to share sessions).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass

from mlwarden.signing import signature_header, verify_signature

SESSION_COOKIE = "mlwarden_session"
LOGIN_COOKIE = "mlwarden_login"  # the login form's CSRF nonce (there is no session yet)
SESSION_SECONDS = 12 * 3600
SECRET_ENV = "MLWARDEN_SESSION_SECRET"


@dataclass(frozen=True, slots=True)
class Session:
    """A verified session: the token's digest and the nonce its CSRF tokens derive from."""

    digest: str
    nonce: str


def session_secret(configured: str | None = None) -> str:
    """``configured``, else ``$MLWARDEN_SESSION_SECRET``, else a random secret for this process."""
    return configured or os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32)


def issue(digest: str, secret: str, *, now: float | None = None) -> str:
    """A cookie value for the token whose SHA-256 is ``digest``: URL-safe base64 of the signed payload."""
    payload = json.dumps({"d": digest, "n": secrets.token_urlsafe(16)}, separators=(",", ":")).encode()
    signed = {"p": payload.decode(), "s": signature_header(payload, secret, now=now)}
    return base64.urlsafe_b64encode(json.dumps(signed).encode()).decode()


def verify(cookie: str | None, secret: str, *, now: float | None = None) -> Session | None:
    """The session in ``cookie``, or ``None`` when it is missing, malformed, forged or older than
    :data:`SESSION_SECONDS`."""
    if not cookie:
        return None
    try:
        signed = json.loads(base64.urlsafe_b64decode(cookie.encode()))
        payload = str(signed["p"]).encode()
        header = str(signed["s"])
        if not verify_signature(header, payload, secret, tolerance_seconds=SESSION_SECONDS, now=now):
            return None
        fields = json.loads(payload)
        return Session(digest=str(fields["d"]), nonce=str(fields["n"]))
    except (ValueError, KeyError, TypeError):
        return None


def csrf_token(nonce: str, secret: str, purpose: str = "form") -> str:
    """The CSRF token of the session (or login form) with ``nonce``."""
    return hmac.new(secret.encode(), f"csrf.{purpose}.{nonce}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(given: str | None, nonce: str | None, secret: str, purpose: str = "form") -> bool:
    """Whether ``given`` is the CSRF token of ``nonce`` (compared in constant time)."""
    if not given or not nonce:
        return False
    return hmac.compare_digest(given, csrf_token(nonce, secret, purpose))


def new_nonce() -> str:
    return secrets.token_urlsafe(16)
