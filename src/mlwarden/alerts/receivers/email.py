"""The email receiver: a plain-text message over SMTP (:mod:`smtplib`), with STARTTLS or implicit TLS and
AUTH when configured.

Certificates are verified against the system's trust store (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` add a
private CA). A password is never sent without TLS. ``Message-ID`` is derived from the notification's
idempotency key (one id however often it is retried) and every message of one alert group carries the same
``References``, so a mail client threads the resolved message under the firing one.

Without ``smtp:`` in the receiver, the server's settings come from its environment: ``MLWARDEN_SMTP_HOST``
(default ``localhost``), ``MLWARDEN_SMTP_PORT`` (25), ``MLWARDEN_SMTP_STARTTLS`` / ``MLWARDEN_SMTP_SSL``
(``true``), ``MLWARDEN_SMTP_USERNAME``, ``MLWARDEN_SMTP_PASSWORD``; the sender is ``sender:``, else
``MLWARDEN_SMTP_SENDER``, else ``mlwarden@<host name>``.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate

import httpx

from mlwarden.alerts.errors import DeliveryError
from mlwarden.alerts.notification import Notification
from mlwarden.alerts.receivers import TIMEOUT
from mlwarden.alerts.receivers import text as render
from mlwarden.errors import InputError
from mlwarden.schema import secrets
from mlwarden.schema.alerting import EmailReceiver, SmtpSettings


def message(notification: Notification, sender: str, to: list[str]) -> EmailMessage:
    """The email for ``notification``: the title as subject, :func:`~text.plain` as body."""
    mail = EmailMessage()
    mail["Subject"] = render.title(notification)
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<{notification.key}@mlwarden>"
    mail["References"] = f"<{render.group_fingerprint(notification)}@mlwarden>"
    mail["X-Mlwarden-Model"] = notification.model
    mail["X-Mlwarden-Status"] = notification.status
    mail.set_content(render.plain(notification))
    return mail


def server_settings() -> SmtpSettings:
    """The server's default SMTP settings, from ``MLWARDEN_SMTP_*`` (see the module docstring)."""
    env = os.environ.get
    try:
        return SmtpSettings(
            host=env("MLWARDEN_SMTP_HOST", "localhost"),
            port=int(env("MLWARDEN_SMTP_PORT", "25")),
            starttls=env("MLWARDEN_SMTP_STARTTLS", "").lower() == "true",
            ssl=env("MLWARDEN_SMTP_SSL", "").lower() == "true",
            username=env("MLWARDEN_SMTP_USERNAME"),
            password=env("MLWARDEN_SMTP_PASSWORD"),
        )
    except ValueError as exc:
        raise DeliveryError(f"MLWARDEN_SMTP_*: {str(exc).splitlines()[0]}", retryable=False) from None


def send(config: EmailReceiver, notification: Notification, client: httpx.Client | None = None) -> None:
    """Send :func:`message` to ``config.to`` over SMTP; raise :class:`DeliveryError` when it is not
    accepted. Retried: connection failures, timeouts and 4xx SMTP replies; not retried: 5xx replies (a
    refused recipient, failed AUTH), certificate failures, an unset secret. ``client`` is unused (SMTP)."""
    smtp = config.smtp or server_settings()
    name = notification.receiver
    try:
        to = [secrets.resolve(a, field=f"{name}.email.to") for a in config.to]
        password = (
            secrets.resolve(smtp.password, field=f"{name}.email.smtp.password") if smtp.password else None
        )
        username = (
            secrets.resolve(smtp.username, field=f"{name}.email.smtp.username") if smtp.username else None
        )
    except InputError as exc:
        raise DeliveryError(str(exc), retryable=False) from None
    if username and not (smtp.starttls or smtp.ssl):
        raise DeliveryError(
            f"{name}.email.smtp: refusing to send a password without TLS; set starttls or ssl",
            retryable=False,
        )
    sender = config.sender or os.environ.get("MLWARDEN_SMTP_SENDER") or f"mlwarden@{socket.gethostname()}"
    mail = message(notification, sender, to)
    what = f"email {name} via {smtp.host}:{smtp.port}"
    context = ssl.create_default_context()
    try:
        if smtp.ssl:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=TIMEOUT, context=context
            )
        else:
            connection = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT)
        with connection:
            if smtp.starttls:
                connection.starttls(context=context)
            if username:
                connection.login(username, password or "")
            refused = connection.send_message(mail)
    except ssl.SSLError as exc:
        raise DeliveryError(f"{what}: TLS failed ({exc.reason or exc})", retryable=False) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"{what}: {exc}", retryable=False) from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {code for code, _ in exc.recipients.values()}
        raise DeliveryError(
            f"{what}: every recipient refused ({', '.join(exc.recipients)})",
            retryable=all(400 <= code < 500 for code in codes),
        ) from None
    except smtplib.SMTPResponseException as exc:
        reply = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        raise DeliveryError(
            f"{what}: the server answered {exc.smtp_code} {reply}", retryable=400 <= exc.smtp_code < 500
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"{what} unreachable: {type(exc).__name__}: {exc}", retryable=True) from None
    if refused:
        raise DeliveryError(  # the others got it: a retry would send them a second copy
            f"{what}: delivered, but refused for {', '.join(sorted(refused))}", retryable=False
        )
