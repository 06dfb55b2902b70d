"""A team's admins: the emails told of a model's ownership problems when its owner cannot be reached."""

from __future__ import annotations

import re

from sqlalchemy import delete, select

from mlwarden.errors import InputError
from mlwarden.registry.tokens import get_or_create_team
from mlwarden.store import Store
from mlwarden.store.audit import record
from mlwarden.store.schema import TeamAdmin

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def set_admins(
    store: Store, team: str, *, add: list[str] = (), remove: list[str] = (), actor: str = "operator"
) -> list[str]:
    """Add and remove ``team``'s admin emails (audited); returns the admins after the change, sorted.
    Raises :class:`InputError` naming an address that is not an email."""
    for email in (*add, *remove):
        if not _EMAIL.match(email):
            raise InputError(f"email: {email!r} is not an email address")
    if not team.strip():
        raise InputError("team: must not be empty")
    with store.session() as session:
        found = get_or_create_team(session, team)
        before = sorted(session.scalars(select(TeamAdmin.email).where(TeamAdmin.team_id == found.id)))
        session.execute(delete(TeamAdmin).where(TeamAdmin.team_id == found.id, TeamAdmin.email.in_(remove)))
        session.add_all(
            TeamAdmin(team_id=found.id, email=e) for e in sorted(set(add) - set(before) - set(remove))
        )
        session.flush()
        after = sorted(session.scalars(select(TeamAdmin.email).where(TeamAdmin.team_id == found.id)))
        if after != before:
            record(
                session,
                actor=actor,
                action="team.admins",
                entity=f"team:{team}",
                before={"admins": before},
                after={"admins": after},
            )
    return after
