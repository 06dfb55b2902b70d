"""Aggregation groups (Alertmanager's): one notification per route, receiver and ``group_by`` values.

An alert change (firing, resolved) touches its groups: a new group is first flushed ``group_wait`` after it
appeared; later changes wait for the next flush, every ``group_interval`` while any of its alerts fires.
A flush notifies when the set of notifiable firing alerts changed or an alert resolved, or — with nothing
changed — ``repeat_interval`` after the last notification. Silenced and inhibited alerts are left out of
a notification (they are not "resolved" by it); when the silence ends, the next flush notifies them.

Group state (timers, what was last sent) is stored, so a restart loses no timer. A flush and the outbox
row it writes share one transaction, and a flush claims its group with a conditional UPDATE: replicas
never flush one group twice. On PostgreSQL, alert changes and flushes of one model hold its row lock
(:func:`lock_model`), so a flush never misses an alert change committed beside it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from mlwarden.alerts import outbox, silences
from mlwarden.alerts.context import ModelContext, model_context
from mlwarden.alerts.inhibition import inhibited
from mlwarden.alerts.notification import Notification
from mlwarden.alerts.routing import RouteMatch, route
from mlwarden.store.schema import Alert, AlertGroup, Model
from mlwarden.store.upsert import insert_ignore

log = logging.getLogger("mlwarden.alerts")


def group_key(labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:32]


def touch(session: Session, ctx: ModelContext, alerts: list[Alert], now: datetime) -> None:
    """Note that ``alerts`` changed state: their groups exist and are due at their next flush."""
    for alert in alerts:
        labels = ctx.labels(alert)
        for node in route(ctx.section.route, labels):
            group_labels = node.group_labels(labels)
            key = group_key(group_labels)
            for receiver in node.receivers:
                where = (
                    AlertGroup.model_id == ctx.model_id,
                    AlertGroup.route == node.path,
                    AlertGroup.receiver == receiver,
                    AlertGroup.group_key == key,
                )
                insert_ignore(
                    session,
                    AlertGroup,
                    [
                        {
                            "model_id": ctx.model_id,
                            "route": node.path,
                            "receiver": receiver,
                            "group_key": key,
                            "group_labels": group_labels,
                            "sent": {},
                            "notifications": 0,
                            "next_flush_at": now + timedelta(seconds=node.group_wait),
                        }
                    ],
                )
                session.execute(
                    update(AlertGroup)
                    .where(*where, AlertGroup.next_flush_at.is_(None))
                    .values(next_flush_at=_next_after_idle(session, where, node, now))
                )


def _next_after_idle(session: Session, where: tuple, node: RouteMatch, now: datetime) -> datetime:
    last = session.scalar(select(AlertGroup.last_notified_at).where(*where))
    if last is None:
        return now + timedelta(seconds=node.group_wait)
    return max(now, last + timedelta(seconds=node.group_interval))


def flush_due(session: Session, now: datetime, *, model_id: int | None = None, limit: int = 100) -> int:
    """Flush every group due at ``now`` (of one model when given); returns how many notifications were
    written to the outbox."""
    query = select(AlertGroup.id, AlertGroup.model_id, AlertGroup.next_flush_at).where(
        AlertGroup.next_flush_at <= now
    )
    if model_id is not None:
        query = query.where(AlertGroup.model_id == model_id)
    query = query.order_by(AlertGroup.model_id, AlertGroup.next_flush_at).limit(limit)  # locks by model id
    contexts: dict[int, ModelContext] = {}
    written = 0
    for group_id, group_model, due in session.execute(query).all():
        lock_model(session, group_model)
        claimed = session.execute(
            update(AlertGroup)
            .where(AlertGroup.id == group_id, AlertGroup.next_flush_at == due)
            .values(next_flush_at=None)
        )
        if claimed.rowcount != 1:  # another sender flushed it a moment ago
            continue
        group = session.get(AlertGroup, group_id)
        if group.model_id not in contexts:
            contexts[group.model_id] = model_context(session, session.get(Model, group.model_id))
        written += flush(session, contexts[group.model_id], group, now)
    return written


def lock_model(session: Session, model_id: int) -> None:
    """Serialise alert changes and flushes of one model (PostgreSQL: its row ``FOR UPDATE``, always taken
    before any of its groups' rows, so the two paths cannot deadlock; SQLite has a single writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Model.id).where(Model.id == model_id).with_for_update())


def flush(session: Session, ctx: ModelContext, group: AlertGroup, now: datetime) -> int:
    """Notify ``group``'s receiver of what changed (see the module's docstring); 1 when a notification
    was written to the outbox, else 0. Sets the group's next flush."""
    rows = session.scalars(
        select(Alert)
        .where(
            Alert.model_id == ctx.model_id,
            or_(Alert.status == "firing", Alert.fingerprint.in_(list(group.sent))),
        )
        .order_by(Alert.id)
    ).all()
    latest: dict[str | None, Alert] = {}  # one row per fingerprint: the firing episode, else the latest
    for row in rows:
        if latest.get(row.fingerprint) is None or latest[row.fingerprint].status != "firing":
            latest[row.fingerprint] = row
    candidates = list(latest.values())
    firing_labels = [ctx.labels(a) for a in candidates if a.status == "firing"]
    muting = silences.active(session, ctx.team_id, now)
    node: RouteMatch | None = None
    notify_firing, notify_resolved, any_firing = [], [], False
    for alert in candidates:
        labels = ctx.labels(alert)
        mine = _node_of(ctx, group, labels)
        if mine is None:
            continue
        node = mine
        if alert.status == "firing":
            any_firing = True
            if not silences.silenced(labels, muting) and not inhibited(
                labels, firing_labels, ctx.section.inhibit
            ):
                notify_firing.append(alert)
        elif alert.status == "resolved" and group.sent.get(alert.fingerprint) == "firing":
            notify_resolved.append(alert)
    sent_now = {a.fingerprint: "firing" for a in notify_firing}
    before = {fp for fp, status in group.sent.items() if status == "firing"}
    changed = set(sent_now) != before
    interval = node.group_interval if node else 0.0
    repeat = (
        bool(notify_firing)
        and group.last_notified_at is not None
        and now >= group.last_notified_at + timedelta(seconds=node.repeat_interval if node else 0.0)
    )
    written = 0
    spec = ctx.section.receivers.get(group.receiver)
    if (changed or repeat) and (notify_firing or notify_resolved):
        if spec is None:  # the receiver was removed from the configuration since the group formed
            log.warning(
                "receiver no longer configured", extra={"model": ctx.name, "receiver": group.receiver}
            )
        else:
            group.notifications += 1
            notification = Notification(
                key=hashlib.sha256(f"{group.id}:{group.notifications}".encode()).hexdigest()[:32],
                receiver=group.receiver,
                status="firing" if notify_firing else "resolved",
                group_labels=dict(group.group_labels),
                alerts=[ctx.info(a, "firing", now) for a in notify_firing]
                + [ctx.info(a, "resolved", now) for a in notify_resolved],
                model=ctx.name,
                owner=ctx.owner,
                runbook=ctx.runbook,
                dashboard_url=ctx.dashboard_url,
                model_version=ctx.version,
                external_url=ctx.external_url,
            )
            outbox.enqueue(session, ctx.model_id, spec, notification, now)
            group.last_notified_at = now
            written = 1
    group.sent = sent_now
    group.next_flush_at = now + timedelta(seconds=interval) if any_firing else None
    return written


def _node_of(ctx: ModelContext, group: AlertGroup, labels: dict[str, str]) -> RouteMatch | None:
    """The routing node through which an alert with ``labels`` belongs to ``group``, if it does."""
    for node in route(ctx.section.route, labels):
        mine = node.path == group.route and group.receiver in node.receivers
        if mine and node.group_labels(labels) == group.group_labels:
            return node
    return None
