"""Ownership health: every model's hygiene read from the store in a few grouped queries (not one query per
model), the owners audit, and the scheduler's hygiene pass that turns problems into alerts.

Hygiene alerts are alerts like any other (same state, routing, grouping, silences): they go to the model's
receivers — its owner. When the owner cannot be reached (no owner, or every receiver failing), each firing
hygiene alert also goes, once, to the team's admins (``team_admins``, by email), and so does its
resolution.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from mlwarden.alerts import outbox
from mlwarden.alerts.context import ModelContext, model_context
from mlwarden.alerts.escalation import single_alert_notification
from mlwarden.alerts.hygiene import ModelHealth, problems
from mlwarden.alerts.state import update_alerts
from mlwarden.schema.alerting import HISTORY_WINDOWS, ReceiverSpec
from mlwarden.store import Store
from mlwarden.store.schema import Alert, Batch, Model, OutboxEntry, PartialProfile, Team, TeamAdmin, Window

log = logging.getLogger("mlwarden.hygiene")
CHECKS = (
    "ownership.no_owner",
    "ownership.receiver_failing",
    "traffic.none",
    "traffic.volume",
    "labels.overdue",
    "evaluation.stale",
)
ADMINS = "team-admins"  # the receiver name of the fallback to a team's admins
LOCK = 0x6D6C_7764_6879  # PostgreSQL advisory lock: one hygiene pass at a time across replicas
MAX_ATTEMPTS_READ = 20  # latest attempted deliveries read per receiver (failing_deliveries is at most 20)


@dataclass(slots=True)
class Ownership:
    """A model's :class:`ModelHealth` and its alerting context (owner, receivers, ``hygiene:`` limits)."""

    health: ModelHealth
    context: ModelContext


def ownership(
    session: Session, *, team_id: int | None = None, now: datetime | None = None
) -> list[Ownership]:
    """The ownership of every model (of one team when ``team_id`` is given), by model name: last batch,
    last label, last evaluation, since when the oldest due window waits for evaluation (its close, or its
    first data's arrival when later), rows per closed window (the last :data:`HISTORY_WINDOWS`), and which
    configured receivers are reachable (their last ``failing_deliveries`` attempted deliveries did not all
    fail). The store is read in grouped queries across models; the configuration once per model."""
    now = now or datetime.now(UTC)
    query = select(Model).join(Team, Team.id == Model.team_id).order_by(Model.name, Team.name)
    if team_id is not None:
        query = query.where(Model.team_id == team_id)
    models = session.scalars(query).all()
    if not models:
        return []
    ids = [model.id for model in models]
    last = {
        (model_id, kind): _utc(at)
        for model_id, kind, at in session.execute(
            select(Batch.model_id, Batch.kind, func.max(Batch.received_at))
            .where(Batch.model_id.in_(ids))
            .group_by(Batch.model_id, Batch.kind)
        )
    }
    evaluated = _grouped(session, func.max(Window.evaluated_at), Window.model_id.in_(ids))
    # an open window is due from its close (end + grace) or from when its first data arrived, whichever is
    # later: a backfill of last week's traffic is not "a week late" the moment it lands
    arrivals: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for model_id, end, first in session.execute(
        select(Window.model_id, Window.end, func.min(Batch.received_at))
        .join(
            PartialProfile,
            (PartialProfile.model_id == Window.model_id) & (PartialProfile.window_start == Window.start),
        )
        .join(Batch, Batch.id == PartialProfile.batch_pk)
        .where(Window.model_id.in_(ids), Window.status == "open")
        .group_by(Window.id, Window.model_id, Window.end)
    ):
        arrivals[model_id].append((_utc(end), _utc(first)))
    longest = max(model.window_seconds + model.grace_seconds for model in models)
    since = now - timedelta(seconds=longest * (HISTORY_WINDOWS + 2))
    volumes: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for model_id, start, count in session.execute(
        select(PartialProfile.model_id, PartialProfile.window_start, func.sum(PartialProfile.rows))
        .where(PartialProfile.model_id.in_(ids), PartialProfile.window_start >= since)
        .group_by(PartialProfile.model_id, PartialProfile.window_start)
        .order_by(PartialProfile.model_id, PartialProfile.window_start)
    ):
        volumes[model_id].append((_utc(start), int(count)))
    attempts = _recent_outcomes(session, ids)
    out = []
    for model in models:
        ctx = model_context(session, model)
        grace, length = timedelta(seconds=model.grace_seconds), timedelta(seconds=model.window_seconds)
        closes = min((max(end + grace, first) for end, first in arrivals[model.id]), default=None)
        failing = ctx.section.hygiene.failing_deliveries
        receivers = {
            name: not _all_failed(attempts.get((model.id, name), []), failing)
            for name in ctx.section.receivers
        }
        health = ModelHealth(
            model=model.name,
            team=ctx.team,
            owner_name=model.owner_name,
            owner_email=model.owner_email,
            created_at=model.created_at,
            last_batch=last.get((model.id, "predictions")),
            last_label=last.get((model.id, "labels")),
            last_evaluation=evaluated.get(model.id),
            oldest_unevaluated_close=closes if closes is not None and closes <= now else None,
            window_rows=[n for start, n in volumes[model.id] if start + length + grace <= now],
            receivers=receivers,
        )
        out.append(Ownership(health, ctx))
    return out


def audit_rows(owned: list[Ownership], now: datetime) -> list[dict[str, Any]]:
    """``GET /v1/owners/audit``'s rows: one per model, the least healthy first (most critical problems,
    then most problems, then by name). ``problems`` are the hygiene findings' checks; ``messages`` say
    them in words."""
    ranked = []
    for item in owned:
        health = item.health
        found = problems(health, item.context.section.hygiene, now)
        row = {
            "model": health.model,
            "team": health.team,
            "owner": health.owner_name,
            "owner_email": health.owner_email,
            "owner_reachable": health.owner_reachable,
            "reachable_receivers": sorted(name for name, ok in health.receivers.items() if ok),
            "last_batch": _iso(health.last_batch),
            "last_label": _iso(health.last_label),
            "last_evaluation": _iso(health.last_evaluation),
            "problems": [f.check for f in found],
            "messages": [f.message for f in found],
        }
        ranked.append(((-sum(f.severity.rank == 2 for f in found), -len(found), health.model), row))
    return [row for _, row in sorted(ranked, key=lambda pair: pair[0])]


def evaluate_hygiene(store: Store, now: datetime | None = None) -> int:
    """One hygiene pass over every model: problems become (or resolve) alerts, routed to the owner; when
    the owner cannot be reached, firing ones go to the team's admins too. Returns the notifications written
    for the admins. One pass at a time across replicas (a PostgreSQL advisory lock; SQLite has one writer)."""
    now = now or datetime.now(UTC)
    written = 0
    with store.session() as session:
        if store.backend == "postgresql" and not session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK}
        ):
            return 0
        with_open = set(
            session.scalars(
                select(Alert.model_id).where(Alert.status.in_(("pending", "firing")), Alert.check.in_(CHECKS))
            )
        )
        for item in ownership(session, now=now):
            ctx, health = item.context, item.health
            findings = problems(health, ctx.section.hygiene, now)
            if not findings and ctx.model_id not in with_open:
                continue  # healthy, and nothing to resolve
            model = session.get(Model, ctx.model_id)
            changed = update_alerts(
                session, model, findings, window_start=None, now=now, judged=lambda check: check in CHECKS
            )
            written += _tell_admins(session, ctx, health, [a for a in changed if a.status == "resolved"], now)
    return written


def _tell_admins(
    session: Session, ctx: ModelContext, health: ModelHealth, resolved: list[Alert], now: datetime
) -> int:
    """Each firing hygiene alert of a model whose owner cannot be reached, once, to the team's admins; and
    the resolution of every one they were told of."""
    told = 0
    for alert in resolved:
        if alert.check in CHECKS and session.scalar(
            select(OutboxEntry.id).where(OutboxEntry.key == _key(alert))
        ):
            spec = ReceiverSpec.model_validate(
                session.scalar(select(OutboxEntry.receiver_spec).where(OutboxEntry.key == _key(alert)))
            )
            key = _key(alert, "resolved")
            note = single_alert_notification(ctx, alert, spec, key=key, status="resolved", note=None, now=now)
            outbox.enqueue_once(session, ctx.model_id, spec, note, now)
            told += 1
    if health.owner_reachable:
        return told
    firing = session.scalars(
        select(Alert).where(Alert.model_id == ctx.model_id, Alert.status == "firing", Alert.check.in_(CHECKS))
    ).all()
    admins = session.scalars(select(TeamAdmin.email).where(TeamAdmin.team_id == ctx.team_id)).all()
    if firing and not admins:
        log.warning("model %s: owner unreachable and team %s has no admins", ctx.name, ctx.team)
        return told
    sent = set(session.scalars(select(OutboxEntry.key).where(OutboxEntry.key.in_([_key(a) for a in firing]))))
    spec = ReceiverSpec(name=ADMINS, email={"to": sorted(admins)})
    for alert in firing:
        if _key(alert) in sent:
            continue
        note = "the owner cannot be reached: sent to the team's admins"
        notification = single_alert_notification(
            ctx, alert, spec, key=_key(alert), status="firing", note=note, now=now
        )
        outbox.enqueue_once(session, ctx.model_id, spec, notification, now)
        told += 1
    return told


def _key(alert: Alert, status: str = "firing") -> str:
    return f"admins-{alert.id}" + ("-resolved" if status == "resolved" else "")


def _recent_outcomes(session: Session, model_ids: list[int]) -> dict[tuple[int, str], list[str]]:
    """``{(model_id, receiver): [status, ...]}`` of the latest attempted deliveries, newest first."""
    number = func.row_number().over(
        partition_by=(OutboxEntry.model_id, OutboxEntry.receiver), order_by=OutboxEntry.id.desc()
    )
    ranked = (
        select(OutboxEntry.model_id, OutboxEntry.receiver, OutboxEntry.status, number.label("n"))
        .where(OutboxEntry.model_id.in_(model_ids), OutboxEntry.attempts > 0)
        .subquery()
    )
    out: dict[tuple[int, str], list[str]] = defaultdict(list)
    for model_id, receiver, status in session.execute(
        select(ranked.c.model_id, ranked.c.receiver, ranked.c.status)
        .where(ranked.c.n <= MAX_ATTEMPTS_READ)
        .order_by(ranked.c.model_id, ranked.c.receiver, ranked.c.n)
    ):
        out[(model_id, receiver)].append(status)
    return out


def _all_failed(statuses: list[str], count: int) -> bool:
    """The latest ``count`` attempted deliveries all failed (still retrying, or dead)."""
    return len(statuses) >= count and all(s != "delivered" for s in statuses[:count])


def _grouped(session: Session, aggregate: Any, *where: Any) -> dict[int, datetime]:
    """``{model_id: aggregate}`` over windows (``max(evaluated_at)``, ``min(end)``), nulls left out."""
    rows = session.execute(select(Window.model_id, aggregate).where(*where).group_by(Window.model_id))
    return {model_id: _utc(value) for model_id, value in rows if value is not None}


def _utc(moment: datetime | str | None) -> datetime | None:
    """Aggregates (max/min) skip the column type's conversion on SQLite: re-attach UTC."""
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite returns aggregates of datetimes as text
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
