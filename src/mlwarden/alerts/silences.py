"""Silences (Alertmanager's): matchers that mute the notifications of the alerts they select, from
``starts_at`` until ``ends_at``, with an author and a comment. A silence does not change an alert's state;
its notifications stop while the silence is active. Expiring one early sets its end to now (audited)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mlwarden.errors import InputError, NotFoundError
from mlwarden.registry.actor import Actor
from mlwarden.schema.alerting import parse_duration
from mlwarden.store.audit import record
from mlwarden.store.schema import Silence

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|=)\s*(.*?)\s*$")
MAX_MATCHERS = 20


@dataclass(frozen=True, slots=True)
class Matcher:
    """``name = value`` (``regex`` False) or ``name =~ value`` (anchored regex)."""

    name: str
    value: str
    regex: bool = False

    def selects(self, labels: dict[str, str]) -> bool:
        given = labels.get(self.name, "")
        return re.fullmatch(self.value, given) is not None if self.regex else given == self.value


def parse_matcher(text: str) -> Matcher:
    """``"check=drift"`` or ``"column=~x.*"`` → :class:`Matcher`; :class:`InputError` otherwise."""
    found = _MATCHER.match(text)
    if found is None:
        raise InputError(f"matcher {text!r}: expected NAME=VALUE or NAME=~REGEX, e.g. check=drift")
    name, operator, value = found.groups()
    return checked_matchers([{"name": name, "value": value, "regex": operator == "=~"}])[0]


def checked_matchers(raw: Any) -> list[Matcher]:
    """Validate ``[{name, value, regex?}]``; errors name ``matchers.<i>.<field>``."""
    if not isinstance(raw, list) or not raw:
        raise InputError("matchers: expected a non-empty list of {name, value, regex}")
    if len(raw) > MAX_MATCHERS:
        raise InputError(f"matchers: at most {MAX_MATCHERS}, got {len(raw)}")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InputError(f"matchers.{i}: expected {{name, value, regex}}, got {item!r}")
        unknown = set(item) - {"name", "value", "regex"}
        if unknown:
            raise InputError(f"matchers.{i}.{sorted(unknown)[0]}: unknown field")
        name, value, regex = item.get("name"), item.get("value"), item.get("regex", False)
        if not isinstance(name, str) or not name:
            raise InputError(f"matchers.{i}.name: expected a label name")
        if not isinstance(value, str):
            raise InputError(f"matchers.{i}.value: expected text, got {value!r}")
        if not isinstance(regex, bool):
            raise InputError(f"matchers.{i}.regex: expected true or false, got {regex!r}")
        if regex:
            try:
                re.compile(value)
            except re.error as exc:
                raise InputError(f"matchers.{i}.value: regex {value!r} does not compile: {exc}") from None
        out.append(Matcher(name, value, regex))
    return out


def silenced(labels: dict[str, str], silences: list[Silence]) -> bool:
    """True when one of ``silences`` (active ones) selects an alert with ``labels``."""
    return any(all(m.selects(labels) for m in matchers_of(s)) for s in silences)


def matchers_of(silence: Silence) -> list[Matcher]:
    return [Matcher(**m) for m in silence.matchers["matchers"]]


def active(session: Session, team_id: int | None, now: datetime) -> list[Silence]:
    """The silences in force at ``now`` for a team's models (the operator's, without a team, cover all)."""
    return list(
        session.scalars(
            select(Silence).where(
                Silence.starts_at <= now,
                Silence.ends_at > now,
                or_(Silence.team_id.is_(None), Silence.team_id == team_id),
            )
        )
    )


def create(
    session: Session,
    actor: Actor,
    matchers: Any,
    *,
    now: datetime,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    duration: str | None = None,
    comment: str = "",
) -> Silence:
    """A new silence (audited). Give ``ends_at`` or ``duration`` (``2h``); ``starts_at`` defaults to now."""
    actor.require("admin")
    checked = checked_matchers(matchers)
    start = starts_at or now
    if (ends_at is None) == (duration is None):
        raise InputError("ends_at: give ends_at or duration (e.g. 2h), exactly one")
    if duration is not None:
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            raise InputError(f"duration: {exc}") from None
        if seconds <= 0:
            raise InputError(f"duration: expected a duration longer than 0s, got {duration!r}")
        try:
            ends_at = start + timedelta(seconds=seconds)
        except OverflowError:  # past datetime's year 9999
            raise InputError(
                f"duration: expected a duration that ends before the year 10000, got {duration!r}"
            ) from None
    if ends_at <= start:
        raise InputError(f"ends_at: {ends_at.isoformat()} is not after starts_at {start.isoformat()}")
    silence = Silence(
        team_id=actor.team_id,
        matchers={"matchers": [_as_dict(m) for m in checked]},
        starts_at=start,
        ends_at=ends_at,
        author=actor.name,
        comment=comment,
        created_at=now,
    )
    session.add(silence)
    session.flush()
    record(
        session,
        actor=actor.name,
        action="silence.create",
        entity=f"silence:{silence.id}",
        after=silence_dict(silence, now),
    )
    return silence


def expire(session: Session, actor: Actor, silence_id: int, now: datetime) -> Silence:
    """End a silence now (audited); :class:`NotFoundError` for another team's or an unknown one."""
    actor.require("admin")
    silence = session.get(Silence, silence_id)
    if silence is None or (actor.team_id is not None and silence.team_id != actor.team_id):
        raise NotFoundError(f"no silence {silence_id}")
    before = silence_dict(silence, now)
    if silence.ends_at > now:
        silence.ends_at = max(now, silence.starts_at)
    record(
        session,
        actor=actor.name,
        action="silence.expire",
        entity=f"silence:{silence.id}",
        before=before,
        after=silence_dict(silence, now),
    )
    return silence


def listed(session: Session, actor: Actor) -> list[Silence]:
    """The actor's team's silences, newest first."""
    actor.require("read")
    query = select(Silence).order_by(Silence.id.desc())
    if actor.team_id is not None:
        query = query.where(Silence.team_id == actor.team_id)
    return list(session.scalars(query))


def silence_dict(silence: Silence, now: datetime) -> dict[str, Any]:
    state = "pending" if silence.starts_at > now else "active" if silence.ends_at > now else "expired"
    return {
        "id": silence.id,
        "matchers": silence.matchers["matchers"],
        "starts_at": silence.starts_at.isoformat(),
        "ends_at": silence.ends_at.isoformat(),
        "author": silence.author,
        "comment": silence.comment,
        "state": state,
    }


def _as_dict(matcher: Matcher) -> dict[str, Any]:
    return {"name": matcher.name, "value": matcher.value, "regex": matcher.regex}
