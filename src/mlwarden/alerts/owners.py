"""The owners audit: every model's ownership health, read from the store in a few grouped queries
(not one query per model), and judged by :mod:`mlwarden.alerts.hygiene`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlwarden.alerts.hygiene import Limits, ModelHealth, problems
from mlwarden.store.schema import Batch, Model, PartialProfile, Team, Window

# receiver reachability per model: {model_id: {receiver name: reachable}}
Reachability = Callable[[Session, list[Model], Limits], dict[int, dict[str, bool]]]


def model_health(
    session: Session,
    *,
    team_id: int | None = None,
    now: datetime | None = None,
    limits: Limits = Limits(),
    reachability: Reachability | None = None,
) -> list[ModelHealth]:
    """The :class:`ModelHealth` of every model (of one team when ``team_id`` is given), by model name.

    ``reachability`` says which receivers of each model are reachable (the outbox knows: the last
    ``limits.failing_deliveries`` attempts); without it receivers are not judged."""
    now = now or datetime.now(UTC)
    query = select(Model, Team.name).join(Team, Team.id == Model.team_id).order_by(Model.name, Team.name)
    if team_id is not None:
        query = query.where(Model.team_id == team_id)
    rows = session.execute(query).all()
    if not rows:
        return []
    ids = [model.id for model, _ in rows]
    last: dict[tuple[int, str], datetime] = {
        (model_id, kind): at
        for model_id, kind, at in session.execute(
            select(Batch.model_id, Batch.kind, func.max(Batch.received_at))
            .where(Batch.model_id.in_(ids))
            .group_by(Batch.model_id, Batch.kind)
        )
    }
    evaluated = dict(
        session.execute(
            select(Window.model_id, func.max(Window.evaluated_at))
            .where(Window.model_id.in_(ids))
            .group_by(Window.model_id)
        ).all()
    )
    oldest_open = dict(
        session.execute(
            select(Window.model_id, func.min(Window.end))
            .where(Window.model_id.in_(ids), Window.status == "open")
            .group_by(Window.model_id)
        ).all()
    )
    longest = max(model.window_seconds + model.grace_seconds for model, _ in rows)
    since = now - timedelta(seconds=longest * (limits.volume_windows + 2))
    volumes: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for model_id, start, count in session.execute(
        select(PartialProfile.model_id, PartialProfile.window_start, func.sum(PartialProfile.rows))
        .where(PartialProfile.model_id.in_(ids), PartialProfile.window_start >= since)
        .group_by(PartialProfile.model_id, PartialProfile.window_start)
        .order_by(PartialProfile.model_id, PartialProfile.window_start)
    ):
        volumes[model_id].append((_utc(start), int(count)))
    reachable = reachability(session, [m for m, _ in rows], limits) if reachability else {}
    out = []
    for model, team in rows:
        grace = timedelta(seconds=model.grace_seconds)
        length = timedelta(seconds=model.window_seconds)
        closed_open = oldest_open.get(model.id)
        closed_open = _utc(closed_open) + grace if closed_open is not None else None
        out.append(
            ModelHealth(
                model=model.name,
                team=team,
                owner_name=model.owner_name,
                owner_email=model.owner_email,
                created_at=model.created_at,
                last_batch=_utc(last.get((model.id, "predictions"))),
                last_label=_utc(last.get((model.id, "labels"))),
                last_evaluation=_utc(evaluated.get(model.id)),
                oldest_unevaluated_close=closed_open if closed_open and closed_open <= now else None,
                window_rows=[n for start, n in volumes[model.id] if start + length + grace <= now],
                receivers=reachable.get(model.id, {}),
            )
        )
    return out


def audit_rows(healths: list[ModelHealth], limits: Limits, now: datetime) -> list[dict[str, Any]]:
    """``GET /v1/owners/audit``'s rows: one per model, the least healthy first (most critical problems,
    then most problems, then by name). ``problems`` are the hygiene findings' checks; ``messages`` say
    them in words."""
    out = []
    for health in healths:
        found = problems(health, limits, now)
        reachable = sorted(name for name, ok in health.receivers.items() if ok)
        out.append(
            {
                "model": health.model,
                "team": health.team,
                "owner": health.owner_name,
                "owner_email": health.owner_email,
                "owner_reachable": health.owner_reachable,
                "reachable_receivers": reachable,
                "last_batch": _iso(health.last_batch),
                "last_label": _iso(health.last_label),
                "last_evaluation": _iso(health.last_evaluation),
                "problems": [f.check for f in found],
                "messages": [f.message for f in found],
                "_rank": (-sum(f.severity.rank == 2 for f in found), -len(found), health.model),
            }
        )
    out.sort(key=lambda row: row["_rank"])
    for row in out:
        del row["_rank"]
    return out


def _utc(moment: datetime | None) -> datetime | None:
    """Aggregates (max/min) skip the column type's conversion on SQLite: re-attach UTC."""
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite returns aggregates of datetimes as text
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
