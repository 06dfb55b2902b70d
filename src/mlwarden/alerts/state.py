"""Alert state per fingerprint (model+check+column+segment): pending → firing → resolved.

After each window evaluation, :func:`update_alerts` feeds the window's findings through the model's rules
(:mod:`mlwarden.alerts.rules`): an alert is ``pending`` until its finding was seen in ``for`` consecutive
windows, then ``firing``; once the finding is absent for more than ``keep_firing_for`` windows it is
``resolved`` (a pending alert that clears is resolved without a notification). Only checks the window could
judge clear an alert (no labels: realized performance stays as it was). Re-evaluating the same window
(late data) updates an alert without counting the window twice. Every state change is audited; the alert's
groups are touched and due groups flushed to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlwarden.alerts import grouping, silences
from mlwarden.alerts.context import ModelContext, model_context
from mlwarden.alerts.labels import alert_labels, alert_subject, fingerprint
from mlwarden.alerts.rules import rule_for
from mlwarden.errors import InputError, NotFoundError
from mlwarden.findings import Finding, Severity
from mlwarden.registry.actor import Actor
from mlwarden.store.audit import record
from mlwarden.store.schema import Alert, Model

EVALUATOR = "mlwarden.alerts"  # the actor of state changes the evaluator makes
OPEN = ("pending", "firing")


def update_alerts(
    session: Session,
    model: Model,
    findings: list[Finding],
    *,
    window_start: datetime | None,
    now: datetime,
    judged: Callable[[str], bool],
) -> list[Alert]:
    """Move the model's alerts on by one window's ``findings``; returns the alerts that started firing or
    resolved (their groups are touched and flushed to the outbox within ``session``'s transaction)."""
    grouping.lock_model(session, model.id)
    ctx = model_context(session, model)
    candidates = _candidates(ctx, findings)
    open_alerts = session.scalars(
        select(Alert).where(Alert.model_id == model.id, Alert.status.in_(OPEN)).order_by(Alert.id)
    ).all()
    changed: list[Alert] = []
    seen: set[str] = set()
    for alert in open_alerts:
        if alert.fingerprint is None:  # opened before migration 0005
            alert.fingerprint = fingerprint(model.name, alert.check, alert.column, alert.segment)
        same_window = window_start is not None and alert.last_window == window_start
        found = candidates.get(alert.fingerprint)
        before = alert.status
        if found is not None:
            seen.add(alert.fingerprint)
            finding, rule = found
            if not same_window or alert.clear_windows > 0:
                alert.active_windows += 1
            alert.clear_windows = 0
            _refresh(alert, finding, now, window_start)
            if alert.status == "pending" and alert.active_windows >= rule.for_:
                alert.status, alert.fired_at = "firing", now
        elif judged(alert.check):
            if not same_window or alert.clear_windows == 0:
                alert.clear_windows += 1
            alert.active_windows = 0
            alert.last_window = window_start
            rule = rule_for(ctx.section.rules, ctx.labels(alert))
            keep = rule.keep_firing_for if rule is not None else 0
            if alert.status == "pending" or alert.clear_windows > keep:
                alert.status, alert.resolved_at = "resolved", now
        if alert.status != before:
            _audit(session, ctx, alert, before)
            if alert.status == "firing" or before == "firing":
                changed.append(alert)
    for fp, (finding, rule) in candidates.items():
        if fp in seen:
            continue
        fires = rule.for_ <= 1
        alert = Alert(
            model_id=model.id,
            check=finding.check,
            column=alert_subject(finding),
            segment=finding.segment or "",
            fingerprint=fp,
            severity=Severity(finding.severity).value,
            message=finding.message,
            status="firing" if fires else "pending",
            first_seen=now,
            active_windows=1,
            clear_windows=0,
            fired_at=now if fires else None,
        )
        _refresh(alert, finding, now, window_start)
        alert.occurrences = 1
        session.add(alert)
        session.flush()
        _audit(session, ctx, alert, None)
        if fires:
            changed.append(alert)
    if changed:
        grouping.touch(session, ctx, changed, now)
    grouping.flush_due(session, now, model_id=model.id)
    return changed


def _candidates(ctx: ModelContext, findings: list[Finding]) -> dict[str, tuple[Finding, Any]]:
    """``{fingerprint: (finding, rule)}``: the worst finding of each subject that a rule makes an alert."""
    out: dict[str, tuple[Finding, Any]] = {}
    for finding in sorted(findings, key=lambda f: Severity(f.severity).rank):  # the worst of a key wins
        column, segment = alert_subject(finding), finding.segment or ""
        severity = Severity(finding.severity).value
        labels = alert_labels(ctx.name, finding.check, severity, column, segment, ctx.team)
        rule = rule_for(ctx.section.rules, labels)
        if rule is not None:
            out[fingerprint(ctx.name, finding.check, column, segment)] = (finding, rule)
    return out


def _refresh(alert: Alert, finding: Finding, now: datetime, window_start: datetime | None) -> None:
    alert.severity = Severity(finding.severity).value
    alert.message = finding.message
    alert.evidence = _jsonable(finding)
    alert.last_seen = now
    alert.last_window = window_start
    alert.occurrences = (alert.occurrences or 0) + 1


def _jsonable(finding: Finding) -> dict[str, Any]:
    data = finding.to_dict()
    evidence = dict(data.get("evidence") or {})
    for key in ("value", "threshold"):
        if data.get(key) is not None:
            evidence.setdefault(key, data[key])
    return evidence


def _audit(session: Session, ctx: ModelContext, alert: Alert, before: str | None) -> None:
    record(
        session,
        actor=EVALUATOR,
        action=f"alert.{alert.status}",
        entity=f"alert:{alert.id}",
        before=None if before is None else {"status": before},
        after={
            "status": alert.status,
            "model": ctx.name,
            "check": alert.check,
            "column": alert.column,
            "segment": alert.segment,
            "severity": alert.severity,
            "fingerprint": alert.fingerprint,
        },
    )


def acknowledge(session: Session, actor: Actor, alert_id: int, now: datetime) -> Alert:
    """Acknowledge an open alert (audited): someone is on it; escalation stops. Another team's alert is
    :class:`NotFoundError`; a resolved one is :class:`InputError`."""
    actor.require("admin")
    alert = session.get(Alert, alert_id)
    model = session.get(Model, alert.model_id) if alert is not None else None
    if alert is None or not actor.sees(model.team_id):
        raise NotFoundError(f"no alert {alert_id}")
    if alert.status not in OPEN:
        raise InputError(
            f"alert {alert_id} is {alert.status}: only pending or firing alerts are acknowledged"
        )
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, actor.name
        record(
            session,
            actor=actor.name,
            action="alert.acknowledge",
            entity=f"alert:{alert.id}",
            before={"acknowledged": False},
            after={"acknowledged": True, "by": actor.name},
        )
    return alert


STATUSES = ("open", "pending", "firing", "acknowledged", "silenced", "resolved", "all")


def listed(session: Session, actor: Actor, status: str, now: datetime) -> list[dict[str, Any]]:
    """The alerts the actor's team sees, newest change first. ``status``: ``open`` (pending or firing, the
    default), ``pending``, ``firing`` (neither acknowledged nor silenced), ``acknowledged``, ``silenced``
    (firing, muted by an active silence), ``resolved`` or ``all``."""
    actor.require("read")
    if status not in STATUSES:
        raise InputError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
    query = select(Alert, Model).join(Model, Model.id == Alert.model_id)
    if actor.team_id is not None:
        query = query.where(Model.team_id == actor.team_id)
    stored = {"open": OPEN, "pending": ("pending",), "resolved": ("resolved",), "all": None}.get(
        status, ("firing",)
    )
    if stored is not None:
        query = query.where(Alert.status.in_(stored))
    contexts: dict[int, ModelContext] = {}
    muting: dict[int, list] = {}
    out = []
    for alert, model in session.execute(query.order_by(Alert.last_seen.desc(), Alert.id.desc())):
        if model.id not in contexts:
            contexts[model.id] = model_context(session, model)
            muting[model.id] = silences.active(session, model.team_id, now)
        muted = alert.status == "firing" and silences.silenced(
            contexts[model.id].labels(alert), muting[model.id]
        )
        acked = alert.acknowledged_at is not None
        if status == "firing" and (muted or acked):
            continue
        if (status == "acknowledged" and not acked) or (status == "silenced" and not muted):
            continue
        out.append(alert_dict(alert, model.name, silenced=muted))
    return out


def alert_dict(row: Alert, model: str, *, silenced: bool = False) -> dict[str, Any]:
    """The API's view of an alert (the fields of earlier releases, and the state added since)."""

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": row.id,
        "model": model,
        "check": row.check,
        "column": row.column or None,
        "segment": row.segment or None,
        "severity": row.severity,
        "status": row.status,
        "message": row.message,
        "occurrences": row.occurrences,
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
        "resolved_at": iso(row.resolved_at),
        "fingerprint": row.fingerprint,
        "fired_at": iso(row.fired_at),
        "acknowledged_at": iso(row.acknowledged_at),
        "acknowledged_by": row.acknowledged_by,
        "silenced": silenced,
        "evidence": row.evidence,
    }
