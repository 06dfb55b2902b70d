"""Shared fixtures: a store on a real SQLite file and on the real local PostgreSQL.

PostgreSQL tests skip when no server answers — except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run: a test that fails one run in twenty is a bug.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")

POSTGRES_URL = os.environ.get(
    "MLWARDEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/mlwarden_test"
)


def _fresh_postgres() -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.OperationalError as exc:
        message = f"PostgreSQL not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path):
    """A migrated, empty :class:`~mlwarden.store.Store` on each backend."""
    from mlwarden.store import Store

    url = str(tmp_path / "mlwarden.db") if request.param == "sqlite" else _fresh_postgres()
    store = Store(url)
    yield store
    store.dispose()
