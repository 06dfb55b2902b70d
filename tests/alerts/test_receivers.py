"""Slack, email (SMTP), PagerDuty and Alertmanager receivers, each against a real local server."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from alert_helpers import T0, configure, drift, window
from receiver_servers import (
    Alertmanager,
    HttpRecorder,
    SmtpServer,
    pagerduty_problems,
    self_signed_certificate,
)

from mlwarden.alerts.errors import DeliveryError
from mlwarden.alerts.notification import AlertInfo, Notification
from mlwarden.alerts.receivers import alertmanager, email, pagerduty, slack, text
from mlwarden.alerts.sender import send_due
from mlwarden.findings import Severity
from mlwarden.schema.alerting import (
    AlertmanagerReceiver,
    EmailReceiver,
    PagerDutyReceiver,
    SlackReceiver,
    SmtpSettings,
)
from mlwarden.store import Store

STARTED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PD_KEY = "R0UT1NGK3Y0123456789abcdefABCDEF"
RUNBOOK = "https://wiki.example.com/runbooks/churn"
DASHBOARD = "https://mlwarden.example.com/models/churn"


def alert(column: str, severity: str = "critical", status: str = "firing", **evidence) -> AlertInfo:
    return AlertInfo(
        fingerprint=f"fp-{column}",
        status=status,  # type: ignore[arg-type]
        labels={
            "alertname": "drift",
            "model": "churn",
            "check": "drift",
            "severity": severity,
            "column": column,
        },
        annotations={
            "summary": f"PSI of {column} is {evidence.get('score', 0.31)} (threshold 0.2)",
            "evidence": json.dumps({"method": "psi", "score": 0.31, "threshold": 0.2, **evidence}),
        },
        starts_at=STARTED,
        ends_at=STARTED + timedelta(hours=2) if status == "resolved" else None,
    )


def notification(
    status: str = "firing", alerts: list[AlertInfo] | None = None, key: str = "n-1"
) -> Notification:
    alerts = alerts or [alert("monthly_charges"), alert("tenure", "warning")]
    return Notification(
        key=key,
        receiver="team",
        status=status,  # type: ignore[arg-type]
        group_labels={"model": "churn", "check": "drift"},
        alerts=alerts,
        model="churn",
        owner="Ada Lovelace <ada@example.com>",
        runbook=RUNBOOK,
        dashboard_url=DASHBOARD,
        model_version="v7",
    )


def resolved() -> Notification:
    return notification(
        "resolved",
        [alert("monthly_charges", status="resolved"), alert("tenure", "warning", "resolved")],
        "n-2",
    )


def slack_problems(body: dict) -> list[str]:
    """Slack's incoming-webhook rules for the blocks we use (header, section, context, actions)."""
    problems = [] if isinstance(body.get("text"), str) and body["text"] else ["text: required"]
    blocks = body.get("blocks", [])
    if len(blocks) > 50:
        problems.append("blocks: at most 50")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "header":
            if block["text"]["type"] != "plain_text" or len(block["text"]["text"]) > 150:
                problems.append(f"blocks[{i}]: header needs plain_text of at most 150 characters")
        elif kind == "section":
            fields, body_text = block.get("fields", []), block.get("text")
            if not fields and not body_text:
                problems.append(f"blocks[{i}]: section needs text or fields")
            if len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields):
                problems.append(f"blocks[{i}]: at most 10 fields of 2000 characters")
            if body_text and len(body_text["text"]) > 3000:
                problems.append(f"blocks[{i}]: section text above 3000 characters")
        elif kind == "actions":
            for element in block["elements"]:
                if element["type"] != "button" or not element["url"].startswith("https://"):
                    problems.append(f"blocks[{i}]: buttons need a URL")
        elif kind != "context":
            problems.append(f"blocks[{i}]: unknown type {kind!r}")
    return problems


def test_title_and_text_say_what_fired_where_and_how_bad() -> None:
    firing = notification()
    assert text.title(firing) == "[FIRING:2 critical] churn: drift on monthly_charges, tenure"
    assert text.title(resolved()) == "[RESOLVED] churn: drift on monthly_charges, tenure"
    assert text.evidence(alert("x")) == "method=psi, score=0.31, threshold=0.2"
    body = text.plain(firing)
    assert "- drift on monthly_charges (critical): PSI of monthly_charges is 0.31 (threshold 0.2)" in body
    for line in ("Model: churn", "Version: v7", "Owner: Ada Lovelace", f"Runbook: {RUNBOOK}", DASHBOARD):
        assert line in body
    assert text.group_fingerprint(firing) == text.group_fingerprint(resolved())
    assert len(text.group_fingerprint(firing)) == 32


def test_slack_message_reads_on_a_phone(monkeypatch: pytest.MonkeyPatch) -> None:
    with HttpRecorder(answer=b"ok", validate=slack_problems) as hook, httpx.Client() as client:
        monkeypatch.setenv("SLACK_HOOK", f"{hook.url}/services/T0/B0/secret")
        config = SlackReceiver(webhook="${SLACK_HOOK}", channel="#ml-alerts")
        slack.send(config, notification(), client)
        slack.send(config, resolved(), client)
    firing, done = (r.json() for r in hook.requests)
    assert hook.requests[0].path == "/services/T0/B0/secret"
    assert hook.requests[0].headers["Idempotency-Key"] == "n-1"
    assert firing["text"] == "[FIRING:2 critical] churn: drift on monthly_charges, tenure"
    assert firing["channel"] == "#ml-alerts"
    header, facts, first, second, actions = firing["blocks"]
    assert header["text"]["text"] == firing["text"]
    assert [f["text"] for f in facts["fields"]] == [
        "*Model*\nchurn",
        "*Version*\nv7",
        "*Owner*\nAda Lovelace &lt;ada@example.com&gt;",
        "*Severity*\ncritical",
    ]
    assert first["text"]["text"] == (
        "drift on monthly_charges (critical): PSI of monthly_charges is 0.31 (threshold 0.2)\n"
        "_evidence:_ method=psi, score=0.31, threshold=0.2"
    )
    assert "tenure (warning)" in second["text"]["text"]
    assert [(b["text"]["text"], b["url"]) for b in actions["elements"]] == [
        ("Runbook", RUNBOOK),
        ("Dashboard", DASHBOARD),
    ]
    assert done["text"].startswith("[RESOLVED] churn")


def test_slack_errors_retry_only_what_may_succeed_and_never_show_the_webhook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = SlackReceiver(webhook="${SLACK_HOOK}")
    with HttpRecorder(statuses=[400, 429, 503], answer=b"invalid_payload") as hook, httpx.Client() as client:
        monkeypatch.setenv("SLACK_HOOK", f"{hook.url}/services/secret-path")
        outcomes = []
        for _ in range(3):
            with pytest.raises(DeliveryError) as caught:
                slack.send(config, notification(), client)
            outcomes.append((str(caught.value), caught.value.retryable))
    assert outcomes == [
        ("slack team answered HTTP 400 (invalid_payload)", False),
        ("slack team answered HTTP 429 (invalid_payload)", True),
        ("slack team answered HTTP 503 (invalid_payload)", True),
    ]
    monkeypatch.delenv("SLACK_HOOK")
    with pytest.raises(
        DeliveryError, match=r"team\.slack\.webhook: environment variable SLACK_HOOK"
    ) as unset:
        slack.send(config, notification(), httpx.Client())
    assert not unset.value.retryable


def test_a_receiver_that_does_not_answer_in_time_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack, "TIMEOUT", 0.2)
    with (
        HttpRecorder(delay=1.0) as hook,
        httpx.Client() as client,
        pytest.raises(DeliveryError, match="unreachable: ReadTimeout") as caught,
    ):
        slack.send(SlackReceiver(webhook=f"{hook.url}/secret"), notification(), client)
    assert caught.value.retryable and "secret" not in str(caught.value)


def test_pagerduty_triggers_and_resolves_one_incident_per_group(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = {"status": "success", "message": "Event processed", "dedup_key": "x"}
    with (
        HttpRecorder(default=202, answer=answer, validate=pagerduty_problems) as pd,
        httpx.Client() as client,
    ):
        monkeypatch.setenv("PD_KEY", PD_KEY)
        config = PagerDutyReceiver(routing_key="${PD_KEY}", url=f"{pd.url}/v2/enqueue")
        pagerduty.send(config, notification(), client)
        pagerduty.send(config, resolved(), client)
    trigger, resolve = (r.json() for r in pd.requests)
    assert [r.path for r in pd.requests] == ["/v2/enqueue", "/v2/enqueue"]
    dedup = text.group_fingerprint(notification())
    assert resolve == {"routing_key": PD_KEY, "event_action": "resolve", "dedup_key": dedup}
    assert trigger["event_action"] == "trigger" and trigger["dedup_key"] == dedup
    payload = trigger["payload"]
    assert payload["summary"] == "[FIRING:2 critical] churn: drift on monthly_charges, tenure"
    assert (payload["source"], payload["severity"], payload["component"], payload["class"]) == (
        "mlwarden/churn",
        "critical",
        "churn",
        "drift",
    )
    assert payload["timestamp"] == STARTED.isoformat()
    details = payload["custom_details"]
    assert details["owner"] == "Ada Lovelace <ada@example.com>" and details["version"] == "v7"
    assert details["alerts"][0]["evidence"] == "method=psi, score=0.31, threshold=0.2"
    assert trigger["links"] == [
        {"href": RUNBOOK, "text": "Runbook"},
        {"href": DASHBOARD, "text": "Dashboard"},
    ]


def test_pagerduty_rejects_are_final_and_name_no_key() -> None:
    with HttpRecorder(default=202, validate=pagerduty_problems) as pd, httpx.Client() as client:
        config = PagerDutyReceiver(routing_key="too-short", url=f"{pd.url}/v2/enqueue")
        with pytest.raises(DeliveryError, match="answered HTTP 400") as caught:
            pagerduty.send(config, notification(), client)
    assert not caught.value.retryable
    assert "routing_key: expected a 32-character integration key" in str(caught.value)
    with HttpRecorder(statuses=[429]) as pd, httpx.Client() as client:
        config = PagerDutyReceiver(routing_key=PD_KEY, url=f"{pd.url}/v2/enqueue")
        with pytest.raises(DeliveryError) as limited:
            pagerduty.send(config, notification(), client)
    assert limited.value.retryable and PD_KEY not in str(limited.value)


def test_email_over_starttls_with_auth(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the test CA, trusted like a company's private CA
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret")
    with SmtpServer(certificate=(cert, key), users={"alerts": "s3cret"}) as smtp:
        settings = SmtpSettings(
            host="127.0.0.1", port=smtp.port, starttls=True, username="alerts", password="${SMTP_PASSWORD}"
        )
        config = EmailReceiver(
            to=["ada@example.com", "ml@example.com"], sender="mlwarden@example.com", smtp=settings
        )
        email.send(config, notification())
        email.send(config, resolved())
    assert smtp.mailbox.logins == ["alerts", "alerts"] and smtp.mailbox.tls == [True, True]
    assert smtp.mailbox.envelopes[0] == ("mlwarden@example.com", ["ada@example.com", "ml@example.com"])
    firing, done = smtp.mailbox.messages
    assert firing["Subject"] == "[FIRING:2 critical] churn: drift on monthly_charges, tenure"
    assert firing["Message-ID"] == "<n-1@mlwarden>" and done["Message-ID"] == "<n-2@mlwarden>"
    assert firing["References"] == done["References"]  # one thread per alert group
    body = firing.get_payload(decode=True).decode()
    assert "evidence: method=psi, score=0.31, threshold=0.2" in body
    assert f"Runbook: {RUNBOOK}" in body and "Version: v7" in body
    assert done["Subject"] == "[RESOLVED] churn: drift on monthly_charges, tenure"


def test_email_failures_say_whether_to_retry(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed_certificate(tmp_path)
    with SmtpServer(certificate=(cert, key), users={"alerts": "right"}) as smtp:
        wrong = SmtpSettings(
            host="127.0.0.1", port=smtp.port, starttls=True, username="alerts", password="bad"
        )
        config = EmailReceiver(to=["ada@example.com"], smtp=wrong)
        with pytest.raises(DeliveryError, match="TLS failed") as untrusted:  # the self-signed cert: refused
            email.send(config, notification())
        assert not untrusted.value.retryable
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        with pytest.raises(DeliveryError, match="answered 535") as denied:
            email.send(config, notification())
        assert not denied.value.retryable and "bad" not in str(denied.value)
        plain = SmtpSettings(host="127.0.0.1", port=smtp.port, username="alerts", password="right")
        with pytest.raises(DeliveryError, match="refusing to send a password without TLS"):
            email.send(EmailReceiver(to=["ada@example.com"], smtp=plain), notification())
    assert smtp.mailbox.messages == []
    closed = SmtpSettings(host="127.0.0.1", port=smtp.port)  # the server is gone
    with pytest.raises(DeliveryError, match="unreachable") as gone:
        email.send(EmailReceiver(to=["ada@example.com"], smtp=closed), notification())
    assert gone.value.retryable


def test_email_uses_the_server_smtp_settings_when_the_receiver_has_none(monkeypatch) -> None:
    with SmtpServer() as smtp:
        monkeypatch.setenv("MLWARDEN_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("MLWARDEN_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("MLWARDEN_SMTP_SENDER", "alerts@example.com")
        email.send(EmailReceiver(to="ada@example.com"), notification())
    assert smtp.mailbox.envelopes == [("alerts@example.com", ["ada@example.com"])]
    assert smtp.mailbox.tls == [False]


def test_alertmanager_holds_the_alerts_and_resolves_them(tmp_path) -> None:
    with Alertmanager(tmp_path) as am, httpx.Client() as client:
        config = AlertmanagerReceiver(url=am.url)
        alertmanager.send(config, notification(), client)
        held = sorted(am.alerts(), key=lambda a: a["labels"]["column"])
        assert [a["labels"] for a in held] == [
            {"alertname": "drift", "model": "churn", "check": "drift", "severity": s, "column": c}
            for c, s in (("monthly_charges", "critical"), ("tenure", "warning"))
        ]
        first = held[0]
        assert first["status"]["state"] == "active"
        assert first["annotations"]["runbook_url"] == RUNBOOK
        assert first["annotations"]["owner"] == "Ada Lovelace <ada@example.com>"
        assert first["annotations"]["model_version"] == "v7"
        assert json.loads(first["annotations"]["evidence"])["score"] == 0.31
        assert first["generatorURL"] == DASHBOARD
        assert datetime.fromisoformat(first["startsAt"]) == STARTED
        alertmanager.send(config, notification(), client)  # a retry: still two alerts
        assert len(am.alerts()) == 2
        alertmanager.send(config, resolved(), client)
        deadline = time.monotonic() + 10
        while am.alerts() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert am.alerts() == []  # endsAt in the past: resolved, no longer listed
        rejected = alertmanager.alerts(notification())
        rejected[0]["startsAt"] = "yesterday"
        response = client.post(f"{am.url}/api/v2/alerts", json=rejected)
        assert response.status_code == 400  # the schema our payload passes is really checked


def test_alertmanager_unreachable_is_retried() -> None:
    with HttpRecorder() as gone:
        url = gone.url
    with httpx.Client() as client, pytest.raises(DeliveryError, match="unreachable") as caught:
        alertmanager.send(AlertmanagerReceiver(url=url), notification(), client)
    assert caught.value.retryable


def test_the_sender_delivers_to_slack_and_escalates_an_unacknowledged_critical_to_pagerduty(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the outbox and the real sender: the group reaches Slack, the unacknowledged critical
    escalates to on-call's PagerDuty, and the fix resolves both (one PagerDuty incident, opened and
    closed with one dedup_key)."""
    with (
        HttpRecorder(answer=b"ok", validate=slack_problems) as hook,
        HttpRecorder(default=202, answer={"status": "success"}, validate=pagerduty_problems) as pd,
        httpx.Client() as client,
    ):
        monkeypatch.setenv("PD_KEY", PD_KEY)
        model = configure(
            store,
            "alerts:\n"
            f"  receivers: {{team-slack: {{slack: {{webhook: '{hook.url}/hook'}}}},"
            f" oncall: {{pagerduty: {{routing_key: '${{PD_KEY}}', url: '{pd.url}/v2/enqueue'}}}}}}\n"
            "  route: {receiver: team-slack, group_wait: 0s}\n"
            "  escalate: [{after: 30m, receiver: oncall}]\n",
        )
        window(store, model, [drift("x", Severity.CRITICAL)], 0)  # fires at T0 + 1 h
        later = T0 + timedelta(hours=3)  # the sender's clock: escalation due, no repeat yet (4h)
        assert send_due(store, now=later, client=client) == 2
        window(store, model, [], 1)  # the fixed traffic resolves it
        assert send_due(store, now=later + timedelta(minutes=10), client=client) == 2
        assert send_due(store, now=later + timedelta(minutes=20), client=client) == 0  # nothing twice
    slack_texts = [r.json()["text"] for r in hook.requests]
    assert slack_texts == ["[FIRING:1 critical] churn: drift on x", "[RESOLVED] churn: drift on x"]
    trigger, resolve = (r.json() for r in pd.requests)
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"]
    assert trigger["payload"]["summary"] == "[ESCALATED:1 critical] churn: drift on x"
    assert trigger["payload"]["custom_details"]["alerts"][0]["alert"].startswith("drift on x (critical)")
