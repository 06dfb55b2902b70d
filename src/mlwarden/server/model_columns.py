"""The per-model column limit: the distinct column names all of a model's batches and references brought.

The per-batch limit (:func:`limits.max_columns`) bounds one request; this one bounds what a model's windows
can accumulate — batches that each send other columns would otherwise grow every window profile, and the
memory of its evaluation, without end. Names are recorded in ``model_columns`` in the batch's own
transaction; a batch that would take the model past the limit is refused whole (InputError, 422) and
records nothing. Each process remembers the names it has seen committed, so a batch of known columns costs
one set lookup per column and no query. Concurrent batches bringing new names may overshoot the limit by
at most what they bring together (each checks the count its own transaction sees).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from mlwarden.errors import InputError
from mlwarden.server import limits
from mlwarden.store import Store
from mlwarden.store.schema import Model, ModelColumn
from mlwarden.store.upsert import insert_ignore

KNOWN_NAMES = 200_000  # column names this process remembers per store, over all models, before forgetting

_known: weakref.WeakKeyDictionary[Store, dict[int, set[str]]] = weakref.WeakKeyDictionary()


def new_columns(store: Store, model: Model, names: Iterable[str]) -> list[str]:
    """The names this process has not yet seen committed for ``model`` (to pass to :func:`record`)."""
    seen = _known.get(store, {}).get(model.id, set())
    return [name for name in names if name not in seen]


def record(connection: Connection, model: Model, names: list[str], limit: int | None = None) -> None:
    """Record ``names`` for ``model`` in the caller's transaction, then check the model's count against the
    limit (``limit``, else :func:`limits.max_model_columns`). Raises InputError naming the counts and the
    setting — the caller's transaction then rolls back."""
    if not names:
        return
    insert_ignore(connection, ModelColumn, [{"model_id": model.id, "name": name} for name in names])
    count = connection.scalar(
        select(func.count()).select_from(ModelColumn).where(ModelColumn.model_id == model.id)
    )
    most = limits.max_model_columns(limit)
    if count > most:
        raise InputError(
            f"columns: model {model.name!r} would have {count:,} distinct columns, at most {most:,} per "
            f"model (send the columns it has, split the features over several models, or raise "
            f"{limits.MAX_MODEL_COLUMNS_ENV})"
        )


def remember(store: Store, model: Model, names: list[str]) -> None:
    """After the transaction that recorded ``names`` committed: skip them from now on."""
    if not names:
        return
    known = _known.setdefault(store, {})
    if sum(map(len, known.values())) + len(names) > KNOWN_NAMES:
        known.clear()
    known.setdefault(model.id, set()).update(names)
