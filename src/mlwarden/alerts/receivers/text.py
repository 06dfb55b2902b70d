"""What every human-facing receiver says (Slack, email, PagerDuty): a one-line title that fits a phone's
notification, one short line per alert with its evidence, the facts (model, version, owner) and the links
(runbook, dashboard). Receivers only arrange these pieces in their own format.
"""

from __future__ import annotations

import json
from typing import Any

from mlwarden.alerts.grouping import group_key
from mlwarden.alerts.notification import AlertInfo, Notification

SEVERITY_ORDER = ("info", "warning", "critical")
EVIDENCE_CHARS = 200  # of evidence per alert: a phone shows a few lines, the dashboard the rest
MAX_LISTED = 10  # alerts listed by name in one message; the rest are counted


def shown(notification: Notification) -> list[AlertInfo]:
    """The alerts a message is about: the firing ones, or all of them once the group resolved."""
    return notification.firing or notification.alerts


def severity(notification: Notification) -> str:
    """The worst severity among :func:`shown` alerts (``warning`` when none says)."""
    levels = [a.labels.get("severity", "warning") for a in shown(notification)]
    known = [s for s in levels if s in SEVERITY_ORDER] or ["warning"]
    return max(known, key=SEVERITY_ORDER.index)


def title(notification: Notification) -> str:
    """``[FIRING:2 critical] churn: drift on x2, x3`` / ``[RESOLVED] churn: drift on x2`` — what fired, on
    which model, how bad (``ESCALATED`` for an escalation step); at most 120 characters."""
    alerts = shown(notification)
    escalated = any("escalation" in a.annotations for a in alerts)
    word = "ESCALATED" if escalated else "FIRING"
    status = (
        f"{word}:{len(alerts)} {severity(notification)}" if notification.status == "firing" else "RESOLVED"
    )
    checks: dict[str, list[str]] = {}
    for alert in alerts:
        subject = alert.labels.get("column") or alert.labels.get("segment")
        names = checks.setdefault(alert.labels.get("check") or alert.labels.get("alertname", "alert"), [])
        if subject and subject not in names:
            names.append(subject)
    what = "; ".join(f"{check} on {', '.join(on)}" if on else check for check, on in checks.items())
    text = f"[{status}] {notification.model}: {what}"
    return text if len(text) <= 120 else text[:119] + "…"


def alert_line(alert: AlertInfo) -> str:
    """``drift on x2 (critical): PSI 0.31 above 0.2`` — the check, where, severity and what the finding
    said."""
    labels = alert.labels
    where = labels.get("column") or labels.get("segment")
    head = labels.get("check") or labels.get("alertname", "alert")
    head += f" on {where}" if where else ""
    head += f" ({labels.get('severity', 'warning')})" if alert.status == "firing" else " (resolved)"
    # the finding's own message (description) says more than the summary, which repeats the head
    summary = alert.annotations.get("description") or alert.annotations.get("summary") or ""
    return f"{head}: {summary}" if summary else head


def evidence(alert: AlertInfo) -> str:
    """The alert's evidence as ``key=value`` pairs on one line, at most :data:`EVIDENCE_CHARS` long."""
    raw = alert.annotations.get("evidence")
    if not raw:
        return ""
    try:
        data: Any = json.loads(raw)
    except ValueError:
        data = raw
    pairs = data.items() if isinstance(data, dict) else [("", data)]
    text = ", ".join(f"{k}={_short(v)}" if k else _short(v) for k, v in pairs)
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1] + "…"


def facts(notification: Notification) -> list[tuple[str, str]]:
    """``[(name, value)]`` for model, version, owner and severity (the known ones)."""
    out = [("Model", notification.model)]
    if notification.model_version:
        out.append(("Version", notification.model_version))
    out.append(("Owner", notification.owner or "nobody: set an owner"))
    out.append(("Severity", severity(notification) if notification.status == "firing" else "resolved"))
    return out


def links(notification: Notification) -> list[tuple[str, str]]:
    """``[(text, url)]``: the runbook and the dashboard (the notification's, else the first alert's)."""
    runbook = notification.runbook or _first(notification, "runbook_url")
    dashboard = notification.dashboard_url or _first(notification, "dashboard_url")
    return [(text, url) for text, url in (("Runbook", runbook), ("Dashboard", dashboard)) if url]


def plain(notification: Notification) -> str:
    """The whole message as plain text (an email body; the fallback text elsewhere)."""
    alerts = shown(notification)
    lines = [title(notification), ""]
    for alert in alerts[:MAX_LISTED]:
        lines.append(f"- {alert_line(alert)}")
        if found := evidence(alert):
            lines.append(f"  evidence: {found}")
        if step := alert.annotations.get("escalation"):
            lines.append(f"  escalated: {step}")
        lines.append(f"  since {alert.starts_at:%Y-%m-%d %H:%M} UTC")
    if len(alerts) > MAX_LISTED:
        lines.append(f"- and {len(alerts) - MAX_LISTED} more")
    lines.append("")
    lines += [f"{name}: {value}" for name, value in facts(notification)]
    lines += [f"{name}: {url}" for name, url in links(notification)]
    return "\n".join(lines) + "\n"


def group_fingerprint(notification: Notification) -> str:
    """A stable id of the notification's alert group (model + group labels), the same for its firing and
    resolved notifications: PagerDuty's ``dedup_key``, an email thread's reference. 32 hex characters."""
    return group_key({**notification.group_labels, "model": notification.model})


def _first(notification: Notification, annotation: str) -> str | None:
    return next((a.annotations[annotation] for a in notification.alerts if annotation in a.annotations), None)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), default=str)[:60]
    return str(value)
