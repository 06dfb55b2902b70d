"""What one ingestion request may hold, checked in one place before any costly work.

Text limits are read from the store's columns (:mod:`mlwarden.store.schema`), so that whatever is accepted
also fits: PostgreSQL refuses an over-long ``VARCHAR`` or a NUL character (and the request would end in a
500), SQLite would store either; both backends must answer the same. Every check raises
:class:`~mlwarden.errors.InputError` (HTTP 422) with one line naming the field and, for a column of values,
the first offending row.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Column

from mlwarden.errors import InputError
from mlwarden.store.schema import StoredFinding

MAX_ROWS = 200_000  # rows per batch
DEFAULT_MAX_COLUMNS = 2_000  # columns per batch (features and outputs; ids and timestamps count too)
MAX_COLUMNS_ENV = "MLWARDEN_MAX_COLUMNS"
DEFAULT_MAX_MODEL_COLUMNS = 5_000  # distinct columns over all of a model's batches and references
MAX_MODEL_COLUMNS_ENV = "MLWARDEN_MAX_MODEL_COLUMNS"
MAX_NESTING = 32  # levels of lists/objects inside one JSON feature value
# Prediction and label times: far enough back for any backfill, and far enough from year 9999 that the end
# of any window holding them is still a valid datetime on both backends.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAME_COLUMN = StoredFinding.__table__.c.column  # findings and alerts name the column they are about


def max_columns(configured: int | None = None) -> int:
    """The column limit: ``configured`` if given, else ``$MLWARDEN_MAX_COLUMNS``, else 2,000."""
    return _configured(configured, MAX_COLUMNS_ENV, DEFAULT_MAX_COLUMNS)


def max_model_columns(configured: int | None = None) -> int:
    """The per-model column limit: ``configured`` if given, else ``$MLWARDEN_MAX_MODEL_COLUMNS``, else
    5,000."""
    return _configured(configured, MAX_MODEL_COLUMNS_ENV, DEFAULT_MAX_MODEL_COLUMNS)


def _configured(configured: int | None, env: str, default: int) -> int:
    if configured is not None:
        return configured
    value = os.environ.get(env, "")
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"{env}: expected a positive integer, got {value!r}")
    return int(value)


def check_column_count(count: int, limit: int, where: str) -> None:
    """Refuse a batch of more than ``limit`` columns (``where`` names what was counted)."""
    if count > limit:
        raise InputError(
            f"{where}: {count:,} columns, at most {limit:,} per batch (split the features over several "
            f"models, or raise the limit with {MAX_COLUMNS_ENV})"
        )


def text_limit(column: Column) -> int:
    """The most characters ``column`` holds (a ``String(n)`` column of the store)."""
    return column.type.length


def check_text(value: str | None, column: Column, field: str) -> None:
    """One text value bound for ``column``: at most its length, and no NUL character."""
    if value is None:
        return
    limit = text_limit(column)
    if len(value) > limit:
        raise InputError(f"{field}: {len(value):,} characters, at most {limit} characters fit")
    if "\x00" in value:
        raise InputError(f"{field}: holds a NUL character (\\u0000), which cannot be stored")


def check_texts(values: pa.Array, column: Column, field: str) -> None:
    """A column of text values bound for ``column`` (nulls allowed), vectorised; names the first bad row."""
    limit = text_limit(column)
    lengths = pc.utf8_length(values)
    too_long = pc.greater(lengths, limit)
    if pc.any(too_long).as_py():
        row = _first(too_long)
        raise InputError(
            f"{field}: row {row} has {lengths[row].as_py():,} characters, at most {limit} characters fit"
        )
    _check_no_nul(values, field)


def check_names(names: Iterable[str], field: str) -> None:
    """Column names: each once; findings and alerts store them, so each fits that column and holds no NUL;
    no control character either (a name is quoted in one-line messages and headers)."""
    limit = text_limit(NAME_COLUMN)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(f"{field}: the column name {name[:limit]!r} appears more than once")
        seen.add(name)
        if len(name) > limit:
            raise InputError(f"{field}: a column name of {len(name):,} characters, at most {limit} fit")
        if "\x00" in name:
            raise InputError(f"{field}: the column name {name!r} holds a NUL character (\\u0000)")
        if CONTROL.search(name):
            raise InputError(f"{field}: the column name {name!r} holds a control character")


def check_frame_text(frame: pd.DataFrame) -> None:
    """Text values of the profiled columns hold no NUL: categories are quoted in findings' messages. Only
    columns that can hold text are looked at (decided from the dtypes)."""
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            values = pd.Series(frame[name].cat.categories, dtype=object)
        elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            values = frame[name]
        else:
            continue
        if values.dtype == object:  # mixed values (text, numbers, lists): only text can hold a NUL
            hits = np.fromiter((isinstance(v, str) and "\x00" in v for v in values), bool, len(values))
        else:
            hits = values.str.contains("\x00", regex=False).fillna(False).to_numpy(bool)
        if hits.any():
            row = int(np.flatnonzero(hits)[0])
            raise InputError(f"{name}: row {row} holds a NUL character (\\u0000), which cannot be stored")


def check_times(stamps: pa.Array, field: str) -> None:
    """UTC microsecond timestamps (nulls allowed) within [1900, 2200)."""
    low, high = pc.min_max(stamps.cast(pa.int64())).values()
    if low.as_py() is None:
        return
    earliest, latest = (int(t.timestamp() * 1_000_000) for t in (EARLIEST, LATEST))
    if low.as_py() < earliest or high.as_py() >= latest:
        micros = stamps.cast(pa.int64()).to_numpy(zero_copy_only=False)
        outside = np.flatnonzero((micros < earliest) | (micros >= latest))
        row = int(outside[0])
        raise InputError(
            f"{field}: row {row} is {_iso(int(micros[row]))}, outside the accepted "
            f"{EARLIEST.year}-01-01 to {LATEST.year}-01-01 (UTC)"
        )


def _iso(micros: int) -> str:
    try:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)).isoformat()
    except OverflowError:
        return f"{micros:,} µs from 1970"


def _check_no_nul(values: pa.Array, field: str) -> None:
    found = pc.match_substring(values, "\x00")
    if pc.any(found).as_py():
        row = _first(found)
        raise InputError(f"{field}: row {row} holds a NUL character (\\u0000), which cannot be stored")


def _first(mask: pa.Array) -> int:
    return int(np.flatnonzero(mask.fill_null(False).to_numpy(zero_copy_only=False))[0])
