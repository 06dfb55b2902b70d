"""``INSERT … ON CONFLICT DO NOTHING`` for both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session


def insert_ignore(target: Session | Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table``, silently skipping those that violate a unique constraint."""
    if not rows:
        return
    dialect = target.dialect if isinstance(target, Connection) else target.get_bind().dialect
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    target.execute(insert(getattr(table, "__table__", table)).on_conflict_do_nothing(), rows)
