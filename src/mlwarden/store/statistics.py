"""Planner statistics kept fresh after bulk loads, so window evaluation keeps its index plans.

PostgreSQL plans the label join from table statistics; a table loaded faster than autovacuum analyses it
(or never analysed at all) can get a nested loop over every label pair — 43 s a window instead of 34 ms
(issue 15). SQLite's planner uses the indexes without statistics and needs nothing here.
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from mlwarden.store.db import Store

log = logging.getLogger("mlwarden.store")

TABLES = ("predictions", "labels")  # the tables window evaluation joins, grown by every batch
STALE_ROWS = 10_000  # rows changed since the last analysis, at least …
STALE_FRACTION = 0.1  # … and this fraction of the table's rows, before it is analysed again


def refresh_statistics(store: Store) -> list[str]:
    """``ANALYZE`` each of :data:`TABLES` that changed by more than ``max(STALE_ROWS, STALE_FRACTION ×
    its rows)`` rows since it was last analysed (by us or autovacuum), or was never analysed and holds
    rows. Returns the tables analysed (none on SQLite). Cheap when nothing is stale: one catalog query.

    The change counts come from ``pg_stat_user_tables``, shared by every process on the database, so
    replicas need no coordination (two analysing the same table at once is harmless)."""
    if store.backend != "postgresql":
        return []
    with store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT relname, n_mod_since_analyze, n_live_tup, "
                "COALESCE(last_analyze, last_autoanalyze) IS NULL "
                "FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ANY(:tables)"
            ),
            {"tables": list(TABLES)},
        ).all()
    stale = [
        name
        for name, changed, live, never in rows
        if (never and changed > 0) or changed > max(STALE_ROWS, STALE_FRACTION * live)
    ]
    if stale:
        with store.engine.begin() as connection:
            for name in stale:
                connection.execute(text(f"ANALYZE {name}"))  # names from TABLES, never from input
        log.info("analysed %s", ", ".join(stale))
    return stale
