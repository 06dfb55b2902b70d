"""The PostgreSQL the tests use: ``$MLWARDEN_TEST_POSTGRES_URL`` (a database of its own, emptied per test).

A module of its own, not conftest: several conftest modules exist, and ``from conftest import`` picks
whichever was imported first.
"""

from __future__ import annotations

import os

import pytest

POSTGRES_URL = os.environ.get(
    "MLWARDEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/mlwarden_test"
)


def fresh_postgres() -> str:
    """The test database's URL, its public schema dropped and recreated (skip, or fail with CI=true, when
    PostgreSQL does not answer)."""
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
