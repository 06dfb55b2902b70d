"""Escalation: an unacknowledged firing alert is sent along ``escalate: [{after, receiver}]``, one
notification per step, each step once; when it resolves, every receiver it escalated to is told. A step
with ``match``/``match_re`` is only for the alerts its matchers select (``match: {severity: critical}``).

The decision is a pure function of the alert's state and the clock (:func:`due_steps`). :func:`escalate_due`
applies it in every sender round: a step's notification goes through the outbox under a key naming the
alert and the step (``escalate-<alert id>-<step>``), so "already sent" is "that key exists", across restarts
and replicas (the key is unique: two replicas deciding at once write it once). Silenced and inhibited alerts
do not escalate. An escalation notification holds that one alert, grouped by all its labels (its own
PagerDuty incident), and says which step it is in the ``escalation`` annotation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from mlwarden.alerts import outbox, silences
from mlwarden.alerts.context import ModelContext, model_context
from mlwarden.alerts.inhibition import inhibited
from mlwarden.alerts.labels import matches
from mlwarden.alerts.notification import Notification
from mlwarden.schema.alerting import ReceiverSpec
from mlwarden.store.schema import Alert, Model, OutboxEntry

MAX_STEPS = 10  # escalation steps looked up for a resolved alert (its configuration may have changed since)
RESOLVED_LOOKBACK = timedelta(days=1)  # alerts resolved this recently still tell their escalation receivers


@dataclass(frozen=True, slots=True)
class Step:
    """One escalation step: after ``after`` of firing without an acknowledgement, notify ``receiver``."""

    after: timedelta
    receiver: str


def due_steps(
    steps: Sequence[Step],
    *,
    status: str,
    firing_since: datetime,
    acknowledged: bool,
    sent: Iterable[int],
    now: datetime,
) -> list[int]:
    """Indexes into ``steps`` whose notification is due now: the alert is ``firing``, not acknowledged,
    has fired for at least the step's ``after`` and the step is not in ``sent``. Several steps can be due
    at once (a scheduler that was down): each still gets its one notification, in ``steps`` order.

    ``firing_since`` and ``now`` are timezone-aware datetimes. A resolved or acknowledged alert never
    escalates; a step once sent is not sent again, even when the alert fires again later under the same
    fingerprint (its escalation restarts only when ``sent`` is reset with a new firing)."""
    if status != "firing" or acknowledged:
        return []
    done = set(sent)
    elapsed = now - firing_since
    return [i for i, step in enumerate(steps) if i not in done and elapsed >= step.after]


def step_key(alert_id: int, step: int, status: str = "firing") -> str:
    """The outbox key of an alert's escalation step (``-resolved`` for the resolved notification)."""
    return f"escalate-{alert_id}-{step}" + ("-resolved" if status == "resolved" else "")


def escalate_due(session: Session, now: datetime) -> int:
    """Write the escalation notifications due at ``now`` to the outbox (within ``session``'s transaction);
    returns how many. Firing alerts of models with ``escalate:`` steps get each due step once; alerts
    resolved in the last :data:`RESOLVED_LOOKBACK` get a resolved notification per step they reached."""
    rows = session.execute(
        select(Alert, Model)
        .join(Model, Model.id == Alert.model_id)
        .where(
            or_(
                and_(Alert.status == "firing", Alert.acknowledged_at.is_(None)),
                and_(
                    Alert.status == "resolved",
                    Alert.fired_at.is_not(None),
                    Alert.resolved_at >= now - RESOLVED_LOOKBACK,
                ),
            )
        )
        .order_by(Alert.id)
    ).all()
    contexts: dict[int, ModelContext] = {}
    for _, model in rows:
        if model.id not in contexts:
            contexts[model.id] = model_context(session, model)
    firing = [
        (a, contexts[m.id]) for a, m in rows if a.status == "firing" and contexts[m.id].section.escalate
    ]
    resolved = [(a, contexts[m.id]) for a, m in rows if a.status == "resolved"]
    wanted = [step_key(a.id, i) for a, ctx in firing for i in range(len(ctx.section.escalate))]
    wanted += [
        step_key(a.id, i, s) for a, _ in resolved for i in range(MAX_STEPS) for s in ("firing", "resolved")
    ]
    sent: dict[str, dict] = {}
    for chunk in range(0, len(wanted), 500):
        query = select(OutboxEntry.key, OutboxEntry.receiver_spec)
        sent.update(session.execute(query.where(OutboxEntry.key.in_(wanted[chunk : chunk + 500]))).all())
    return _escalate(session, firing, sent, now) + _tell_resolved(session, resolved, sent, now)


def _escalate(session: Session, firing: list[tuple[Alert, ModelContext]], sent: dict, now: datetime) -> int:
    """Each due step (whose matchers select the alert) of each firing alert that is neither silenced nor
    inhibited."""
    written = 0
    muting: dict[int, list] = {}
    for alert, ctx in firing:
        labels = ctx.labels(alert)
        if ctx.model_id not in muting:
            muting[ctx.model_id] = silences.active(session, ctx.team_id, now)
        others = [ctx.labels(a) for a, c in firing if c.model_id == ctx.model_id]
        if silences.silenced(labels, muting[ctx.model_id]) or inhibited(labels, others, ctx.section.inhibit):
            continue
        steps = [Step(timedelta(seconds=e.after), e.receiver) for e in ctx.section.escalate]
        done = [i for i in range(len(steps)) if step_key(alert.id, i) in sent]
        done += [  # steps for other alerts count as done: never due for this one
            i for i, e in enumerate(ctx.section.escalate) if not matches(labels, e.match, e.match_re)
        ]
        since = alert.fired_at or alert.first_seen
        for i in due_steps(
            steps, status="firing", firing_since=since, acknowledged=False, sent=done, now=now
        ):
            receiver = ctx.section.receivers[steps[i].receiver]
            note = f"step {i + 1}: unacknowledged {_duration(steps[i].after)} after it fired"
            notification = single_alert_notification(
                ctx, alert, receiver, key=step_key(alert.id, i), status="firing", note=note, now=now
            )
            outbox.enqueue_once(session, ctx.model_id, receiver, notification, now)
            written += 1
    return written


def _tell_resolved(
    session: Session, resolved: list[tuple[Alert, ModelContext]], sent: dict, now: datetime
) -> int:
    """A resolved notification to the receiver of every step a resolved alert reached (the receiver as it
    was when the step was sent, whatever the configuration says now)."""
    written = 0
    for alert, ctx in resolved:
        for i in range(MAX_STEPS):
            spec = sent.get(step_key(alert.id, i))
            if spec is None or step_key(alert.id, i, "resolved") in sent:
                continue
            receiver = ReceiverSpec.model_validate(spec)
            notification = single_alert_notification(
                ctx,
                alert,
                receiver,
                key=step_key(alert.id, i, "resolved"),
                status="resolved",
                note=None,
                now=now,
            )
            outbox.enqueue_once(session, ctx.model_id, receiver, notification, now)
            written += 1
    return written


def single_alert_notification(
    ctx: ModelContext,
    alert: Alert,
    spec: ReceiverSpec,
    *,
    key: str,
    status: str,
    note: str | None,
    now: datetime,
) -> Notification:
    """A notification of one alert to ``spec`` outside its route's groups (an escalation step, the team's
    admins): grouped by all its labels, so that it is its own PagerDuty incident; ``note`` (firing only) goes
    in the ``escalation`` annotation and makes the title say ESCALATED."""
    info = ctx.info(alert, status, now)
    if status == "firing" and note:
        info = replace(info, annotations={**info.annotations, "escalation": note})
    return Notification(
        key=key,
        receiver=spec.name,
        status=status,  # type: ignore[arg-type]
        group_labels=ctx.labels(alert),
        alerts=[info],
        model=ctx.name,
        owner=ctx.owner,
        runbook=ctx.runbook,
        dashboard_url=ctx.dashboard_url,
        model_version=ctx.version,
        external_url=ctx.external_url,
    )


def _duration(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    return f"{minutes:g} min" if minutes < 120 else f"{minutes / 60:g} h"
