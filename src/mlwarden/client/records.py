"""Turn what a serving process logs into JSON-safe records, column by column.

Accepted for every per-row field (features' columns, prediction, score, id, timestamp, labels): Python lists
and tuples, 1-D numpy arrays, pandas Series and Index (aligned by *position*: their index labels are
ignored), pandas extension arrays (Arrow-backed ``int64[pyarrow]``/``string[pyarrow]``/``ArrowDtype``,
nullable ``Int64``/``boolean``/``string``, categoricals, tz-aware datetimes) and pyarrow Arrays; ``score``
also takes an ``(n, k)`` array or DataFrame (one column per class). Features are one mapping (one row), a
DataFrame, a dict of columns, a list of mappings or a pyarrow Table.

Everything here copies: a record never shares a mutable object with the caller. Values become plain JSON
types: numpy scalars and arrays become Python numbers and lists, NaN/±inf/NaT/NA become ``null``, datetimes
become ISO-8601 strings, mapping keys become strings. Typed columns are converted whole (numpy or Arrow
kernels); only ``object`` columns holding mixed Python values are looked at value by value.

Input that cannot be used is *rejected* with a reason (the ``REASONS`` below): a call that cannot be aligned
at all raises :class:`Rejected`; a row with an unusable cell is left out of :attr:`Built.records` and counted
in :attr:`Built.dropped`, the other rows of the call are kept. That includes every row the server would refuse
its whole batch for (see :mod:`mlwarden.server.limits`), which would cost the rows of other calls too: times
outside its range, ids it cannot store, text holding a NUL character, feature names holding a control
character.
"""

from __future__ import annotations

import math
import os
import re
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mlwarden.errors import InputError

MAX_ID_LENGTH = 200  # the server rejects longer record ids
MAX_TEXT_LENGTH = 200  # the longest prediction or label text the server stores (it refuses the batch else)
# The times the server accepts (mlwarden.server.limits.EARLIEST/LATEST; a test holds them equal): it refuses
# a whole batch for one row outside them, so such a row is rejected here, alone. Epoch milliseconds or
# nanoseconds fall outside too.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive
_EARLIEST_S, _LATEST_S = EARLIEST.timestamp(), LATEST.timestamp()
# the common ISO-8601 forms, which datetime.fromisoformat reads as pandas does (others go to pandas)
# what the server refuses in a feature name (mlwarden.server.limits.CONTROL; a test holds them equal); a NUL
# is refused in any text value (its top-level values: text inside a list or mapping is not looked at there)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:\d{2})?"
)

# why input was rejected (the keys of Stats.rejected)
LENGTH_MISMATCH = "length_mismatch"  # a field holds a different number of values than there are rows
WRONG_SHAPE = "wrong_shape"  # a 2-D array where one value per row is expected (or a score array of 3-D)
UNSUPPORTED_TYPE = "unsupported_type"  # a type this field does not take (e.g. one value for many rows)
BAD_VALUE = "bad_value"  # a value with no JSON form, or a list-of-rows item that is not a mapping
BAD_SCORE = "bad_score"  # a score that is not a number or a list of numbers
BAD_TIMESTAMP = "bad_timestamp"  # not a datetime, ISO string or epoch seconds
BAD_TEXT = "bad_text"  # text holding a NUL character, or a feature name holding a control character
LONG_TEXT = "long_text"  # a prediction or label text longer than MAX_TEXT_LENGTH characters
MISSING_ID = "missing_id"  # an explicit id (or a label's id) that is None/NaN/NA
BAD_ID = "bad_id"  # an id that is empty or longer than MAX_ID_LENGTH characters
BAD_MODEL = "bad_model"  # the model name is not a non-empty string
CLOSED = "closed"  # logged after Warden.close()
INTERNAL_ERROR = "internal_error"  # a bug in the client; the message says what failed
REASONS = (
    LENGTH_MISMATCH,
    WRONG_SHAPE,
    UNSUPPORTED_TYPE,
    BAD_VALUE,
    BAD_SCORE,
    BAD_TIMESTAMP,
    BAD_TEXT,
    LONG_TEXT,
    MISSING_ID,
    BAD_ID,
    BAD_MODEL,
    CLOSED,
    INTERNAL_ERROR,
)


class Rejected(InputError):
    """A whole call refused: ``reason`` (one of REASONS), the ``field`` at fault, the ``rows`` the call held
    (as far as they could be counted; at least 1). The message is one line naming the field and what was
    expected."""

    def __init__(self, reason: str, field: str, message: str, rows: int = 1) -> None:
        super().__init__(f"{field}: {message}")
        self.reason, self.field, self.rows = reason, field, max(rows, 1)


class BadValue(TypeError):
    """A value with no JSON form; its row is dropped."""


class _Bad:
    """Marks a cell that makes its row unusable, with the reason; compared by identity only."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __len__(self) -> int:  # so an id column's length check (0 < len <= MAX_ID_LENGTH) flags it too
        return 0


_BAD_VALUE, _BAD_SCORE, _BAD_TIMESTAMP = _Bad(BAD_VALUE), _Bad(BAD_SCORE), _Bad(BAD_TIMESTAMP)
_BAD_TEXT, _LONG_TEXT = _Bad(BAD_TEXT), _Bad(LONG_TEXT)
_MISSING_ID, _BAD_ID = _Bad(MISSING_ID), _Bad(BAD_ID)
_EXPECTED = {  # what the warning says a field's bad cells should have been
    BAD_VALUE: "a value with a JSON form (number, string, bool, datetime, list, mapping)",
    BAD_SCORE: "a number, or a list of numbers (one per class)",
    BAD_TIMESTAMP: (
        f"a datetime, an ISO-8601 string or epoch seconds, from {EARLIEST.year} to {LATEST.year} (UTC)"
    ),
    BAD_TEXT: "text without a NUL character (\\u0000)",
    LONG_TEXT: f"text of at most {MAX_TEXT_LENGTH} characters",
    MISSING_ID: "an id, not None/NaN/NA",
    BAD_ID: f"an id of 1 to {MAX_ID_LENGTH} characters",
}
_FEATURES_EXPECTED = {  # the same, for the features field
    BAD_VALUE: "one mapping per row whose values have a JSON form",
    BAD_TEXT: "feature names without control characters, and text values without a NUL character (\\u0000)",
}
_SENTINELS = {  # the markers each field can hold (text in any field can hold a NUL)
    "features": (_BAD_VALUE, _BAD_TEXT),
    "id": (_MISSING_ID, _BAD_ID, _BAD_VALUE, _BAD_TEXT),
    "timestamp": (_BAD_TIMESTAMP, _BAD_VALUE, _BAD_TEXT),
    "prediction": (_BAD_VALUE, _BAD_TEXT, _LONG_TEXT),
    "score": (_BAD_SCORE, _BAD_VALUE, _BAD_TEXT),
    "label": (_BAD_VALUE, _BAD_TEXT, _LONG_TEXT),
}


def json_safe(value: Any) -> Any:
    """A plain-JSON copy of ``value`` (see the module docstring); raises BadValue when there is none."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, float):  # includes np.float64
        return float(value) if math.isfinite(value) else None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64 | np.timedelta64):
            return json_safe(pd.Timestamp(value) if isinstance(value, np.datetime64) else pd.Timedelta(value))
        return json_safe(value.item())
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, list | tuple | set | frozenset | pd.Series | pd.Index):
        return [json_safe(v) for v in value]
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return json_safe(float(value))
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, pa.Scalar):
        return json_safe(value.as_py())
    raise BadValue(f"{type(value).__name__} has no JSON form")


def _safe_or(value: Any, bad: _Bad) -> Any:
    try:
        return json_safe(value)
    except (BadValue, ValueError, OverflowError):
        return bad


def is_scalar(value: Any) -> bool:
    """One value rather than one per row (strings, numbers, datetimes, None, numpy/Arrow scalars)."""
    return pd.api.types.is_scalar(value) or value is None or isinstance(value, pa.Scalar)


# ---------------------------------------------------------------------------- one column -> JSON values


def as_column(value: Any, n: int, name: str, *, matrix: bool = False) -> pd.Series | np.ndarray:
    """``value`` as ``n`` values by position: a Series with a fresh RangeIndex, or (``matrix=True``, for
    scores) an ``(n, k)`` numeric array. Raises :class:`Rejected` for a wrong type, shape or length."""
    column: pd.Series | np.ndarray
    if isinstance(value, pd.DataFrame):
        if not matrix:
            raise Rejected(WRONG_SHAPE, name, f"expected one value per row, got a DataFrame {value.shape}", n)
        try:
            column = value.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            kinds = sorted({str(t) for t in value.dtypes})
            expected = f"expected numeric columns (one per class), got {kinds}"
            raise Rejected(UNSUPPORTED_TYPE, name, expected, n) from None
    elif isinstance(value, np.ndarray):
        if value.ndim == 2 and matrix and value.dtype.kind in "iuf":
            column = value.astype(float)
        elif value.ndim == 2 and matrix:
            column = pd.Series(list(value.tolist()), dtype=object)
        elif value.ndim != 1:
            expected = "shape (n,) or (n, classes)" if matrix else "shape (n,) (.ravel() an (n, 1) array)"
            raise Rejected(WRONG_SHAPE, name, f"expected an array of {expected}, got shape {value.shape}", n)
        else:
            column = pd.Series(value, copy=False)
    elif isinstance(value, pd.Series | pd.Index):
        column = pd.Series(value.array, copy=False)
    elif isinstance(value, pd.api.extensions.ExtensionArray):
        column = pd.Series(value, copy=False)
    elif isinstance(value, pa.Array | pa.ChunkedArray):
        column = pd.Series(pd.arrays.ArrowExtensionArray(value), copy=False)
    elif isinstance(value, list | tuple):
        column = pd.Series(value, dtype=object)  # object keeps each element's own type (no int -> float)
    else:
        expected = f"one value per row for {n} rows (a list, array or Series)"
        kind = f"a single {type(value).__name__}" if is_scalar(value) else type(value).__name__
        raise Rejected(UNSUPPORTED_TYPE, name, f"expected {expected}, got {kind}", n)
    if len(column) != n:
        raise Rejected(LENGTH_MISMATCH, name, f"expected {n} values (one per row), got {len(column)}", n)
    return column


def column_values(column: pd.Series, bad: _Bad = _BAD_VALUE) -> list[Any]:
    """JSON-safe values of one column, converted by dtype; cells with no JSON form become ``bad``, text
    holding a NUL character becomes ``bad_text``."""
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        utc = column.dt.tz_convert("UTC").dt.tz_localize(None)
        return _iso(utc.to_numpy("datetime64[us]"), aware=True)
    if isinstance(dtype, np.dtype):
        if dtype.kind in "biu":
            return column.tolist()
        if dtype.kind == "U":
            return _nul_marked(column.tolist())
        if dtype.kind == "f":
            return _finite_or_none(column.to_numpy())
        if dtype.kind == "M":
            return _iso(column.to_numpy("datetime64[us]"), aware=False)
        if dtype.kind == "m":
            return _finite_or_none(column.dt.total_seconds().to_numpy())
        return _object_values(column.tolist(), bad)
    try:
        array = pa.array(column.array)
    except (pa.ArrowException, TypeError, ValueError):
        return _object_values(column.astype(object).tolist(), bad)
    return arrow_values(array, bad)


def arrow_values(array: pa.Array | pa.ChunkedArray, bad: _Bad = _BAD_VALUE) -> list[Any]:
    """JSON-safe values of an Arrow array, converted with Arrow kernels for its type."""
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = pc.cast(array, kind.value_type)
        kind = array.type
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        numbers = pc.cast(array, pa.float64())
        return pc.if_else(pc.is_finite(numbers), numbers, pa.scalar(None, pa.float64())).to_pylist()
    if pa.types.is_timestamp(kind):
        stamps = pc.cast(array, pa.timestamp("us", kind.tz)).to_numpy(zero_copy_only=False)
        return _iso(stamps, aware=kind.tz is not None)  # Arrow stores aware stamps in UTC
    if pa.types.is_duration(kind):
        seconds = pc.divide(pc.cast(pc.cast(array, pa.duration("us")), pa.int64()), 1e6)
        return seconds.to_pylist()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        if pc.any(pc.match_substring(array, "\x00")).as_py():
            return _nul_marked(array.to_pylist())
        return array.to_pylist()
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_null(kind):
        return array.to_pylist()
    return _object_values(array.to_pylist(), bad)  # lists, structs, dates, binary: value by value


def _finite_or_none(numbers: np.ndarray) -> list[Any]:
    finite = np.isfinite(numbers)
    if finite.all():
        return numbers.tolist()
    values = numbers.astype(object)
    values[~finite] = None
    return values.tolist()


def _iso(stamps: np.ndarray, *, aware: bool) -> list[Any]:
    """ISO-8601 text of datetime64[us] values (``+00:00`` appended when they are UTC), None for NaT."""
    text = np.datetime_as_string(stamps, unit="us")
    values = np.char.add(text, "+00:00").astype(object) if aware else text.astype(object)
    values[np.isnat(stamps)] = None
    return values.tolist()


_PLAIN = ({int}, {str}, {bool}, {int, type(None)}, {str, type(None)}, {bool, type(None)})


def _object_values(values: list[Any], bad: _Bad) -> list[Any]:
    """Mixed Python values: plain ints/strings/bools pass as they are, floats are masked at numpy speed, the
    rest (numpy scalars, datetimes, nested lists, mixed types) is converted value by value."""
    types = set(map(type, values))
    if types in _PLAIN:
        return _nul_marked(values) if str in types else values
    if types <= {float, type(None)}:
        return _finite_or_none(np.array(values, dtype=float))
    return _nul_marked([_safe_or(v, bad) for v in values])


def _nul_marked(values: list[Any]) -> list[Any]:
    """``values`` with each text holding a NUL character replaced by ``bad_text`` (a copy when there is
    one). One join looks at all the text at once (a few µs for 500 values); rows are looked at only when a
    NUL is there."""
    try:
        joined = "".join(values)
    except TypeError:  # not all text
        joined = "".join([v for v in values if isinstance(v, str)])
    if "\x00" not in joined:
        return values
    return [_BAD_TEXT if isinstance(v, str) and "\x00" in v else v for v in values]


def _long_marked(values: list[Any]) -> list[Any]:
    """``values`` with each text longer than :data:`MAX_TEXT_LENGTH` replaced by ``long_text`` (a copy when
    there is one): the server stores predictions and labels in columns of that size and would refuse the
    whole batch. Numbers, the common case, cost one failed ``len``; text one pass at C speed."""
    try:
        longest = max(map(len, values), default=0)
    except TypeError:  # not all text (numbers, None)
        if not any(type(v) is str for v in values):
            return values
        longest = max(len(v) for v in values if isinstance(v, str))
    if longest <= MAX_TEXT_LENGTH:
        return values
    return [_LONG_TEXT if isinstance(v, str) and len(v) > MAX_TEXT_LENGTH else v for v in values]


def _rows_text_checked(rows: list[Any]) -> list[Any]:
    """Feature rows (dicts, or markers) with those the server would refuse marked ``bad_text``: a feature
    name holding a control character, or a text value holding a NUL. Names are looked at once per call,
    values in one join; rows one by one only when something is there."""
    dicts = [r for r in rows if type(r) is dict]
    names = set().union(*dicts)
    bad_names = {name for name in names if CONTROL.search(name)} if CONTROL.search("".join(names)) else set()
    texts = "".join([v for r in dicts for v in r.values() if isinstance(v, str)])
    if not bad_names and "\x00" not in texts:
        return rows
    return [r if type(r) is not dict or _row_text_ok(r, bad_names) else _BAD_TEXT for r in rows]


def _row_text_ok(row: dict[str, Any], bad_names: set[str]) -> bool:
    return bad_names.isdisjoint(row) and not any(isinstance(v, str) and "\x00" in v for v in row.values())


# ---------------------------------------------------------------------------- fields


def _field(value: Any, n: int, name: str, single: bool, bad: _Bad = _BAD_VALUE) -> list[Any]:
    """One JSON value per row of ``value``: the value itself when the call logs one row (or one row of a
    frame is given one value), else its aligned column."""
    if single or (n == 1 and is_scalar(value)):
        return _nul_marked([_safe_or(value, bad)])
    return column_values(as_column(value, n, name), bad)


def _scores(value: Any, n: int, single: bool) -> list[Any]:
    """One score per row: a number, or a list with one number per class."""
    if value is None:
        return [None] * n
    if single or (n == 1 and is_scalar(value)):
        return [_checked_score(_safe_or(value, _BAD_VALUE))]
    column = as_column(value, n, "score", matrix=True)
    if isinstance(column, np.ndarray):  # (n, k) floats
        cells = column.astype(object)
        cells[~np.isfinite(column)] = None
        return cells.tolist()
    values = column_values(column, _BAD_VALUE)
    if column.dtype.kind in "iuf":  # typed numbers: valid by construction
        return values
    return [_checked_score(v) for v in values]


def is_score(value: Any) -> bool:
    """A score is null, a number, or a list of numbers/nulls (one per class)."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return True
    return isinstance(value, list) and all(
        v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in value
    )


def _checked_score(value: Any) -> Any:
    return value if isinstance(value, _Bad) or is_score(value) else _BAD_SCORE


def timestamp_value(value: Any) -> Any:
    """ISO-8601 text (or null) for one timestamp: datetime, numpy/pandas stamp, string or epoch seconds.
    Raises :class:`BadValue` for anything else, and for a time the server refuses (text that is not ISO-8601,
    a time outside [``EARLIEST``, ``LATEST``): naive ones are UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        if _accepted_texts([value])[0] is _BAD_TIMESTAMP:
            raise BadValue(f"timestamp: {value!r} is not an ISO-8601 time the server accepts")
        return value
    if isinstance(value, pa.Scalar):
        value = value.as_py()
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_):
        if not math.isfinite(value):
            return None
        if not _EARLIEST_S <= value < _LATEST_S:
            raise BadValue(f"timestamp: {value} is not epoch seconds from {EARLIEST.year} to {LATEST.year}")
        return datetime.fromtimestamp(float(value), UTC).isoformat()
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, datetime | date):
        instant = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        if not EARLIEST <= (instant if instant.tzinfo else instant.replace(tzinfo=UTC)) < LATEST:
            raise BadValue(f"timestamp: {value} is outside {EARLIEST.year} to {LATEST.year}")
        return value.isoformat()
    raise BadValue(f"timestamp: expected a datetime, ISO string or epoch seconds, got {type(value).__name__}")


def _accepted_texts(values: list[Any]) -> list[Any]:
    """``values`` (text, None or markers) with the text the server would refuse — not ISO-8601 as pandas
    reads it there, or outside [``EARLIEST``, ``LATEST``) — replaced by ``bad_timestamp`` (in place). The
    common forms are read by ``datetime.fromisoformat`` (~1 µs each), the rest by pandas as on the server."""
    unusual: list[int] = []
    for i, value in enumerate(values):
        if isinstance(value, str):
            accepted = _plain_time_accepted(value)
            if accepted is None:
                unusual.append(i)
            elif not accepted:
                values[i] = _BAD_TIMESTAMP
    if unusual:
        texts = pd.Series([values[i] for i in unusual], dtype=object)
        stamps = pd.to_datetime(texts, utc=True, format="ISO8601", errors="coerce")
        in_range = ((stamps >= EARLIEST) & (stamps < LATEST)).to_numpy(bool)  # NaT compares False
        for i in np.asarray(unusual)[~in_range]:  # only rows that are bad: few by nature
            values[i] = _BAD_TIMESTAMP
    return values


def _plain_time_accepted(text: str) -> bool | None:
    """Whether the server accepts ``text`` as a time; ``None`` when it is not of a common form, or one
    ``datetime.fromisoformat`` cannot read (pandas decides)."""
    if not _PLAIN_ISO.fullmatch(text):
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    return EARLIEST <= (instant if instant.tzinfo else instant.replace(tzinfo=UTC)) < LATEST


def _timestamp_or_bad(value: Any) -> Any:
    try:
        return timestamp_value(value)
    except (BadValue, ValueError, OverflowError, OSError):
        return _BAD_TIMESTAMP


def _timestamps(value: Any, n: int, single: bool) -> list[Any]:
    """One ISO timestamp per row: now (UTC) by default; a single stamp applies to every row; numbers are
    epoch seconds."""
    if value is None:
        return [datetime.now(UTC).isoformat()] * n
    if single or is_scalar(value):
        return [_timestamp_or_bad(value)] * n
    column = as_column(value, n, "timestamp")
    kind = column.dtype.kind
    if kind in "iuf":  # epoch seconds, as a column
        seconds = column.to_numpy(dtype=float, na_value=np.nan)
        usable = (seconds >= _EARLIEST_S) & (seconds < _LATEST_S)  # False for NaN and ±inf (null stamps) too
        stamps = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        stamps[usable] = (seconds[usable] * 1e6).astype("int64").astype("datetime64[us]")
        values = _iso(stamps, aware=True)
        for i in np.flatnonzero(np.isfinite(seconds) & ~usable):  # only rows that are bad: few by nature
            values[i] = _BAD_TIMESTAMP
        return values
    values = column_values(column, _BAD_TIMESTAMP)
    if kind == "M":  # numpy's ISO text: four-digit years compare as text, other years sort outside
        low, high = str(EARLIEST.year), str(LATEST.year)
        return [v if v is None or low <= v < high else _BAD_TIMESTAMP for v in values]
    if set(map(type, values)) <= {str, type(None)}:
        return _accepted_texts(values)  # strings are sent as given once the server's parser accepts them
    return _accepted_texts([v if isinstance(v, str | _Bad) else _timestamp_or_bad(v) for v in values])


def _ids(value: Any, n: int, single: bool, name: str, *, default_fresh: bool) -> list[Any]:
    """One id per row as text: integers as digits (also when a NaN made their column float), strings as
    given. None/NaN ids are ``missing_id``; with ``default_fresh`` an absent argument gives fresh uuid4s."""
    if value is None and default_fresh:
        return uuid4_hex(n)
    if single or (n == 1 and is_scalar(value)):
        values = _nul_marked([_safe_or(value, _BAD_VALUE)])
        if isinstance(values[0], float) and values[0].is_integer():
            values = [int(values[0])]
    else:
        column = as_column(value, n, name)
        if column.dtype.kind == "f":  # an integer id column that a NaN turned into floats
            numbers = column.to_numpy(dtype=float, na_value=np.nan)
            finite = numbers[np.isfinite(numbers)]
            if np.array_equal(finite, np.round(finite)) and np.abs(finite).max(initial=0) < 2**53:
                column = pd.Series(numbers).astype("Int64")
        values = column_values(column, _BAD_VALUE)
    types = set(map(type, values))
    if _Bad in types or type(None) in types:  # rows that will be dropped: value by value
        values = [_MISSING_ID if v is None else v if isinstance(v, _Bad | str) else str(v) for v in values]
    elif types != {str}:
        values = list(map(str, values))
    lengths = list(map(len, values))
    if values and (min(lengths) == 0 or max(lengths) > MAX_ID_LENGTH):  # a _Bad has len 0: keep its reason
        values = [v if isinstance(v, _Bad) or 0 < len(v) <= MAX_ID_LENGTH else _BAD_ID for v in values]
    return values


def uuid4_hex(n: int) -> list[str]:
    """``n`` random uuid4 hex strings at once (version and variant bits set as uuid.uuid4 does)."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]


_COLUMN_LIKE = (
    list,
    tuple,
    np.ndarray,
    pd.Series,
    pd.Index,
    pd.api.extensions.ExtensionArray,
    pa.Array,
    pa.ChunkedArray,
)


def _is_column(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim == 1
    return isinstance(value, _COLUMN_LIKE)


def _is_column_dict(features: Mapping[Any, Any]) -> bool:
    """A dict whose every value is a list or a 1-D array/Series is a dict of columns; any other mapping is
    one row (so one row whose every feature is a list must be logged as ``[row]``)."""
    return bool(features) and all(map(_is_column, features.values()))


def _features(features: Any) -> tuple[list[Any], bool]:
    """Feature dicts (or a ``_Bad`` marker) per row, and whether the call logged a single row."""
    if isinstance(features, pa.Table | pa.RecordBatch):
        features = features.to_pandas(types_mapper=pd.ArrowDtype)
    if isinstance(features, Mapping) and _is_column_dict(features):
        lengths = {str(k): len(v) for k, v in features.items()}
        if len(set(lengths.values())) > 1:
            rows = max(lengths.values())
            raise Rejected(LENGTH_MISMATCH, "features", f"columns of different lengths {lengths}", rows)
        n = next(iter(lengths.values()))
        columns = {str(k): as_column(v, n, f"features[{k!r}]") for k, v in features.items()}
        features = pd.DataFrame(columns, copy=False)  # RangeIndex columns: aligned by position
    if isinstance(features, Mapping):
        return _rows_text_checked([_safe_or(features, _BAD_VALUE)]), True
    if isinstance(features, pd.DataFrame):
        names = [str(c) for c in features.columns]
        if CONTROL.search("".join(names)):  # every row holds every column: none can be sent
            return [_BAD_TEXT] * len(features), False
        columns = [column_values(features.iloc[:, i]) for i in range(features.shape[1])]
        if not columns:
            return [{} for _ in range(len(features))], False
        rows: list[Any] = [dict(zip(names, cells, strict=True)) for cells in zip(*columns, strict=True)]
        for column in columns:
            for i, marker in _marked_rows(column, _SENTINELS["features"]).items():
                rows[i] = marker
        return rows, False
    if isinstance(features, Sequence) and not isinstance(features, str | bytes):
        rows = [_safe_or(r, _BAD_VALUE) if isinstance(r, Mapping) else _BAD_VALUE for r in features]
        return _rows_text_checked(rows), False
    kind = type(features).__name__
    expected = "a mapping (one row), a DataFrame, a dict of columns, a list of mappings or a pyarrow Table"
    raise Rejected(UNSUPPORTED_TYPE, "features", f"expected {expected}, got {kind}")


# ---------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Drop:
    """Rows of one call left out for one reason: the field at fault, how many, and what it should hold."""

    field: str
    rows: int
    expected: str


@dataclass(slots=True)
class Built:
    """Records built from one call, and the rows left out by reason (each row counted once, under the
    first field at fault in the order id, timestamp, features, prediction, score / id, label, timestamp)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    dropped: dict[str, Drop] = field(default_factory=dict)


def build_predictions(features: Any, prediction: Any, score: Any, ids: Any, timestamp: Any) -> Built:
    """Prediction records ``{"id", "timestamp", "features", "prediction", "score"}`` from one ``log`` call.
    Raises :class:`Rejected` when the call cannot be aligned."""
    rows, single = _features(features)
    n = len(rows)
    predicted = [None] * n if prediction is None else _field(prediction, n, "prediction", single)
    columns = {
        "id": _ids(ids, n, single, "id", default_fresh=True),
        "timestamp": _timestamps(timestamp, n, single),
        "features": rows,
        "prediction": _long_marked(predicted),
        "score": _scores(score, n, single),
    }
    return _assemble(columns)


def build_labels(ids: Any, labels: Any, timestamp: Any) -> Built:
    """Label records ``{"id", "label", "timestamp"}`` from one ``log_labels`` call. Raises
    :class:`Rejected` when the call cannot be aligned."""
    single = is_scalar(ids) or isinstance(ids, uuid.UUID)
    if single:
        n = 1
    elif isinstance(ids, (*_COLUMN_LIKE, pd.DataFrame)):
        n = len(ids)
    else:
        expected = "one id or a list/array/Series of ids"
        raise Rejected(UNSUPPORTED_TYPE, "ids", f"expected {expected}, got {type(ids).__name__}")
    columns = {
        "id": _ids(ids, n, single, "ids", default_fresh=False),
        "label": _long_marked(_field(labels, n, "labels", single)),
        "timestamp": _timestamps(timestamp, n, single),
    }
    return _assemble(columns)


def _marked_rows(column: list[Any], markers: tuple[_Bad, ...]) -> dict[int, _Bad]:
    """Rows of ``column`` holding one of ``markers`` (``in`` scans a list at C speed; indices are looked for
    only when a marker is there)."""
    found: dict[int, _Bad] = {}
    for marker in markers:
        if marker in column:
            for i, value in enumerate(column):
                if value is marker:
                    found.setdefault(i, marker)
    return found


def _assemble(columns: dict[str, list[Any]]) -> Built:
    names, values = list(columns), list(columns.values())
    bad: dict[int, tuple[str, _Bad]] = {}
    for name, column in columns.items():
        for i, marker in _marked_rows(column, _SENTINELS[name]).items():
            bad.setdefault(i, (name, marker))
    if not bad:
        return Built([dict(zip(names, cells, strict=True)) for cells in zip(*values, strict=True)])
    rows = enumerate(zip(*values, strict=True))
    records = [dict(zip(names, cells, strict=True)) for i, cells in rows if i not in bad]
    counts = Counter(marker.reason for _, marker in bad.values())
    first = {marker.reason: name for name, marker in reversed(list(bad.values()))}  # first field per reason
    labels = "label" in columns
    dropped = {reason: _drop(first[reason], reason, rows, labels) for reason, rows in counts.items()}
    return Built(records, dropped)


def _drop(name: str, reason: str, rows: int, labels: bool) -> Drop:
    expected = _FEATURES_EXPECTED[reason] if name == "features" else _EXPECTED[reason]
    return Drop("ids" if name == "id" and labels else name, rows, expected)
