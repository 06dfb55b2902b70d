"""Persistence: SQLAlchemy tables, the Store handle, Alembic migrations. Nothing statistical lives here."""

from mlwarden.store.db import Store, resolve_url

__all__ = ["Store", "resolve_url"]
