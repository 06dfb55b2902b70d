"""The audit log: who changed what, when, with the state before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mlwarden.store.schema import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to ``session``'s transaction (it commits or rolls back with the change)."""
    session.add(AuditEntry(actor=actor, action=action, entity=entity, before=before, after=after))
