"""Migration 0003 (model names unique per team) on a store holding rows that point at its models."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from mlwarden.store import Store
from mlwarden.store.migrate import alembic_config

ROWS = [
    "INSERT INTO teams (id, name, created_at) VALUES (1, 'growth', '2026-11-26'), (2, 'risk', '2026-11-26')",
    "INSERT INTO models (id, name, team_id, description, slos, columns, window_seconds, grace_seconds, "
    "created_at, updated_at) VALUES (1, 'churn', 1, '', '{}', '{}', 3600, 60, '2026-11-26', '2026-11-26')",
    "INSERT INTO model_versions (model_id, version, stage, offline_metrics, created_at) "
    "VALUES (1, 'v1', 'champion', '{}', '2026-11-26')",
]
ANOTHER_CHURN = (
    "INSERT INTO models (id, name, team_id, description, slos, columns, window_seconds, grace_seconds, "
    "created_at, updated_at) VALUES ({id}, 'churn', {team}, '', '{{}}', '{{}}', 3600, 60, '2026-11-26', "
    "'2026-11-26')"
)


def test_names_become_per_team_and_rows_pointing_at_models_survive(store: Store) -> None:
    """On SQLite the models table is rebuilt (its unnamed unique constraint cannot be dropped), which its
    foreign keys forbade: the first version of this migration failed on any store with a model version."""
    command.downgrade(alembic_config(store.engine), "0002")
    with store.engine.begin() as connection:
        for statement in ROWS:
            connection.execute(text(statement))
        with pytest.raises(IntegrityError), connection.begin_nested():
            connection.execute(text(ANOTHER_CHURN.format(id=2, team=2)))  # 0002: one name store-wide
    Store(store.url).dispose()  # upgraded on open
    with store.engine.begin() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM model_versions WHERE model_id = 1")).scalar() == 1
        )
        connection.execute(text(ANOTHER_CHURN.format(id=2, team=2)))  # now: another team's churn
        with pytest.raises(IntegrityError), connection.begin_nested():
            connection.execute(text(ANOTHER_CHURN.format(id=3, team=1)))  # still one churn per team
        if store.backend == "sqlite":
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1  # back on after the rebuild
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text(ANOTHER_CHURN.format(id=4, team=99)))  # no team 99
