"""Shared fixtures: a store on a real SQLite file and on the real local PostgreSQL.

PostgreSQL tests skip when no server answers — except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from postgres import fresh_postgres

# Property tests draw the same examples on every run: a test that fails one run in twenty is a bug.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path):
    """A migrated, empty :class:`~mlwarden.store.Store` on each backend."""
    from mlwarden.store import Store

    url = str(tmp_path / "mlwarden.db") if request.param == "sqlite" else fresh_postgres()
    store = Store(url)
    yield store
    store.dispose()
