"""Where the store lives and how to open it: SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from mlwarden.errors import InputError

DEFAULT_PATH = Path.home() / ".mlwarden" / "mlwarden.db"


def resolve_url(db: str | Path | None = None) -> str:
    """The database URL: ``db`` if given, else ``$MLWARDEN_DB``, else ``~/.mlwarden/mlwarden.db``.

    A bare path means a SQLite file at that path.
    """
    value = str(db) if db else os.environ.get("MLWARDEN_DB") or str(DEFAULT_PATH)
    if "://" not in value:
        path = Path(value).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    return value


def make_engine(url: str) -> Engine:
    """An engine tuned for the backend: SQLite in WAL mode with a busy timeout; PostgreSQL with a pool."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        expected = "a file path or postgresql+psycopg://…"
        raise InputError(f"not a database URL: {url!r} (expected {expected})") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # orjson decodes JSON columns (window summaries, findings' evidence) several times faster;
        # PostgreSQL's json type holds no NaN tokens, which orjson refuses (SQLite may: stdlib decoder)
        return create_engine(
            url, pool_size=20, max_overflow=20, pool_recycle=1800, json_deserializer=orjson.loads
        )
    backend = parsed.get_backend_name()
    raise InputError(f"unsupported database {backend!r}: use a SQLite path or a PostgreSQL URL")


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    """A database holding registry, tokens, ingested profiles, findings, alerts and the audit log."""

    def __init__(self, db: str | Path | None = None, *, migrate: bool = True) -> None:
        self.url = resolve_url(db)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema up to date (Alembic ``upgrade head``); safe to call on every start."""
        from mlwarden.store.migrate import upgrade

        upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
