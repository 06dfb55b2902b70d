"""The Slack receiver: an incoming-webhook message with ``text`` (what a phone's notification shows) and
Block Kit ``blocks`` (header, facts, one section per alert with its evidence, runbook and dashboard buttons).

Slack's limits are kept: a header of at most 150 characters, section text of at most 3000, at most 10
fields and 50 blocks. ``&``, ``<`` and ``>`` in our text are escaped as Slack's mrkdwn requires.
"""

from __future__ import annotations

from typing import Any

import httpx

from mlwarden.alerts.errors import DeliveryError
from mlwarden.alerts.notification import Notification
from mlwarden.alerts.receivers import TIMEOUT, http_failure
from mlwarden.alerts.receivers import text as render
from mlwarden.errors import InputError
from mlwarden.schema import secrets
from mlwarden.schema.alerting import SlackReceiver
from mlwarden.signing import IDEMPOTENCY_HEADER

HEADER_CHARS, SECTION_CHARS = 150, 3000


def payload(config: SlackReceiver, notification: Notification) -> dict[str, Any]:
    """The incoming-webhook body for ``notification`` (``channel`` only when configured)."""
    title = render.title(notification)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:HEADER_CHARS], "emoji": False}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{_escape(value)}"}
                for name, value in render.facts(notification)
            ],
        },
    ]
    alerts = render.shown(notification)
    for alert in alerts[: render.MAX_LISTED]:
        lines = [_escape(render.alert_line(alert))]
        if evidence := render.evidence(alert):
            lines.append(f"_evidence:_ {_escape(evidence)}")
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:SECTION_CHARS]}}
        )
    if len(alerts) > render.MAX_LISTED:
        more = f"and {len(alerts) - render.MAX_LISTED} more"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    if links := render.links(notification):
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": name}, "url": url}
                    for name, url in links
                ],
            }
        )
    body: dict[str, Any] = {"text": title, "blocks": blocks}
    if config.channel:
        body["channel"] = config.channel
    return body


def send(config: SlackReceiver, notification: Notification, client: httpx.Client) -> None:
    """POST :func:`payload` to the webhook (a ``${ENV}`` reference resolved now); raise
    :class:`DeliveryError` unless Slack answers 2xx. The webhook URL is a secret: no error names it."""
    try:
        url = secrets.resolve(config.webhook, field=f"{notification.receiver}.slack.webhook")
    except InputError as exc:
        raise DeliveryError(str(exc), retryable=False) from None
    what = f"slack {notification.receiver}"
    try:
        response = client.post(
            url,
            json=payload(config, notification),
            headers={IDEMPOTENCY_HEADER: notification.key},
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:  # its text may quote the URL: only the kind of failure is told
        raise DeliveryError(f"{what} unreachable: {type(exc).__name__}", retryable=True) from None
    if not response.is_success:
        failure = http_failure(what, response)
        raise DeliveryError(f"{failure} ({response.text.strip()[:100]})", retryable=failure.retryable)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
