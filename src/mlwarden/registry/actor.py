"""Who is acting: a team's token with scopes, or the local operator (the CLI on the store's machine)."""

from __future__ import annotations

from dataclasses import dataclass

from mlwarden.errors import AccessDenied

SCOPES = ("read", "ingest", "admin")


@dataclass(frozen=True, slots=True)
class Actor:
    """``team_id`` None means the local operator, who may act on every team's models."""

    name: str
    team_id: int | None
    scopes: frozenset[str]

    @classmethod
    def operator(cls, name: str = "operator") -> Actor:
        return cls(name=name, team_id=None, scopes=frozenset(SCOPES))

    def require(self, scope: str) -> None:
        """Raise :class:`AccessDenied` unless this actor holds ``scope`` (``admin`` implies every scope)."""
        if scope not in self.scopes and "admin" not in self.scopes:
            held = ", ".join(sorted(self.scopes))
            raise AccessDenied(f"this token lacks the '{scope}' scope (it has: {held})")

    def sees(self, team_id: int) -> bool:
        return self.team_id is None or self.team_id == team_id
