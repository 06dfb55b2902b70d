"""Bearer tokens per team: random secrets shown once, stored as SHA-256 digests, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlwarden.errors import InputError
from mlwarden.registry.actor import SCOPES, Actor
from mlwarden.store import Store
from mlwarden.store.audit import record
from mlwarden.store.schema import Team, Token, utcnow

PREFIX = "mlw_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_or_create_team(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def create_token(store: Store, *, team: str, name: str, scopes: list[str], actor: str = "operator") -> str:
    """Create a token for ``team`` with ``scopes`` and return it; only its digest is kept."""
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise InputError(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(scopes) or 'none'}")
    if not team.strip():
        raise InputError("team name must not be empty")
    secret = secrets.token_urlsafe(32)
    token = f"{PREFIX}{secret}"
    with store.session() as session:
        row = Token(
            team_id=get_or_create_team(session, team).id,
            name=name,
            prefix=token[:12],
            digest=digest(token),
            scopes=" ".join(sorted(set(scopes))),
        )
        session.add(row)
        record(
            session,
            actor=actor,
            action="token.create",
            entity=f"team:{team}",
            after={"name": name, "prefix": row.prefix, "scopes": row.scopes},
        )
    return token


def authenticate(store: Store, token: str) -> Actor | None:
    """The actor behind ``token``, or ``None`` for an unknown or revoked token."""
    return authenticate_digest(store, digest(token))


def authenticate_digest(store: Store, wanted: str) -> Actor | None:
    """The actor behind the token whose SHA-256 is ``wanted`` (a dashboard session keeps only the digest),
    or ``None`` for an unknown or revoked token."""
    with store.session() as session:
        row = session.scalar(select(Token).where(Token.digest == wanted, Token.revoked_at.is_(None)))
        if row is None or not hmac.compare_digest(row.digest, wanted):
            return None
        team = session.get(Team, row.team_id)
        scopes = frozenset(row.scopes.split())
        return Actor(name=f"{team.name}/{row.name}", team_id=row.team_id, scopes=scopes)


def revoke_token(store: Store, prefix: str, *, actor: str = "operator") -> None:
    with store.session() as session:
        rows = session.scalars(select(Token).where(Token.prefix == prefix, Token.revoked_at.is_(None))).all()
        if not rows:
            raise InputError(f"no active token starts with {prefix!r}")
        for row in rows:
            row.revoked_at = utcnow()
            record(session, actor=actor, action="token.revoke", entity=f"token:{prefix}")
