"""Turn what a serving process logs (dicts, lists of dicts, DataFrames, numpy values) into JSON-safe records.

Everything here copies: a record never shares a mutable object with the caller. Values become plain JSON
types: numpy scalars and arrays become Python numbers and lists, NaN/±inf/NaT/NA become ``null``, datetimes
become ISO-8601 strings, mapping keys become strings. A value that has no JSON form (an arbitrary object)
makes its row *bad*: the row is dropped and counted, the rest of the call is kept.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

MAX_ID_LENGTH = 200  # the server rejects longer record ids


class BadValue(TypeError):
    """A value with no JSON form; its row is dropped."""


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
    raise BadValue(f"{type(value).__name__} has no JSON form")


_BAD = object()  # marks a cell whose value has no JSON form


def _safe_or_bad(value: Any) -> Any:
    try:
        return json_safe(value)
    except (BadValue, ValueError, OverflowError):
        return _BAD


def column_values(column: pd.Series) -> list[Any]:
    """JSON-safe values of one column, converted by dtype; cells with no JSON form are ``_BAD``."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind in "biu":
            return column.tolist()
        if dtype.kind == "f":
            numbers = column.to_numpy()
            values = numbers.astype(object)
            values[~np.isfinite(numbers)] = None
            return values.tolist()
        if dtype.kind == "U":
            return column.tolist()
    if isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        aware = isinstance(dtype, pd.DatetimeTZDtype)
        stamps = column.dt.tz_convert("UTC").dt.tz_localize(None) if aware else column
        text = np.datetime_as_string(stamps.to_numpy("datetime64[us]"), unit="us")
        values = np.char.add(text, "+00:00").astype(object) if aware else text.astype(object)
        values[stamps.isna().to_numpy()] = None
        return values.tolist()
    return [_safe_or_bad(v) for v in column.astype(object).tolist()]


def sequence_values(value: Any, n: int, name: str) -> list[Any]:
    """The ``n`` JSON-safe values of an argument aligned with the rows (list, tuple, array, Series)."""
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype.kind in "biuf":
        matrix = value.astype(float)
        cells = matrix.astype(object)
        cells[~np.isfinite(matrix)] = None
        rows = cells.tolist()
    elif isinstance(value, pd.DataFrame):
        rows = sequence_values(value.to_numpy(), n, name)
    elif isinstance(value, list | tuple):  # object dtype keeps each element's own type (no int -> float)
        rows = column_values(pd.Series(value, dtype=object))
    elif isinstance(value, np.ndarray | pd.Series | pd.Index):
        rows = column_values(pd.Series(np.asarray(value)))
    else:
        raise BadValue(f"{name}: expected a list or array with one value per row, got {type(value).__name__}")
    if len(rows) != n:
        raise BadValue(f"{name}: {len(rows)} values for {n} rows")
    return rows


def is_score(value: Any) -> bool:
    """A score is null, a number, or a list of numbers/nulls (one per class)."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return True
    return isinstance(value, list) and all(
        v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in value
    )


def timestamp_value(value: Any) -> Any:
    """ISO-8601 text (or null) for one timestamp: datetime, numpy/pandas stamp, string or epoch seconds."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_):
        return datetime.fromtimestamp(float(value), UTC).isoformat() if math.isfinite(value) else None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if value is pd.NaT:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise BadValue(f"timestamp: expected a datetime, ISO string or epoch seconds, got {type(value).__name__}")


def _record_id(value: Any) -> Any:
    if value is None:
        return uuid.uuid4().hex
    text = str(value)
    if not text or len(text) > MAX_ID_LENGTH:
        raise BadValue(f"id: expected 1 to {MAX_ID_LENGTH} characters, got {len(text)}")
    return text


def uuid4_hex(n: int) -> list[str]:
    """``n`` random uuid4 hex strings at once (version and variant bits set as uuid.uuid4 does)."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]


@dataclass(slots=True)
class Built:
    """Records built from one call, and the reasons rows were dropped (one entry per bad row)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def _per_row(value: Any, n: int, name: str, single: bool, convert: Callable[[Any], Any] | None) -> list[Any]:
    """One value per row: ``value`` itself for a single row, else an aligned sequence. ``convert`` checks or
    reshapes a JSON-safe value (raising BadValue marks the row bad)."""
    if single:
        return [_apply(convert, _safe_or_bad(value))]
    if value is None:
        return [_apply(convert, None)] * n if convert is not _record_id else uuid4_hex(n)
    values = sequence_values(value, n, name)
    return values if convert is None else [_apply(convert, v) for v in values]


def _apply(convert: Callable[[Any], Any] | None, value: Any) -> Any:
    if value is _BAD or convert is None:
        return value
    try:
        return convert(value)
    except (BadValue, ValueError, OverflowError, OSError):
        return _BAD


def _timestamps(value: Any, n: int, single: bool) -> list[Any]:
    """One ISO timestamp per row: now (UTC) by default; a single stamp applies to every row."""
    if value is None:
        return [datetime.now(UTC).isoformat()] * n
    if single or isinstance(value, str | datetime | date | np.datetime64 | int | float):
        return [_apply(timestamp_value, _safe_or_bad(value))] * n
    return _per_row(value, n, "timestamp", single, timestamp_value)


def _features(features: Any) -> tuple[list[Any], bool]:
    """Feature dicts (or ``_BAD``) per row, and whether the call logged a single row."""
    if isinstance(features, Mapping):
        row = _safe_or_bad(features)
        return [row], True
    if isinstance(features, pd.DataFrame):
        names = [str(c) for c in features.columns]
        columns = [column_values(features.iloc[:, i]) for i in range(features.shape[1])]
        if not columns:
            return [{} for _ in range(len(features))], False
        rows = [dict(zip(names, cells, strict=True)) for cells in zip(*columns, strict=True)]
        for i in _bad_rows(columns):
            rows[i] = _BAD
        return rows, False
    if isinstance(features, Sequence) and not isinstance(features, str | bytes):
        return [_safe_or_bad(r) if isinstance(r, Mapping) else _BAD for r in features], False
    kind = type(features).__name__
    raise BadValue(f"features: expected a mapping, a list of mappings or a DataFrame, got {kind}")


def build_predictions(features: Any, prediction: Any, score: Any, ids: Any, timestamp: Any) -> Built:
    """Prediction records ``{"id", "timestamp", "features", "prediction", "score"}`` from one ``log`` call."""
    rows, single = _features(features)
    n = len(rows)
    columns = {
        "id": _per_row(ids, n, "id", single, _record_id),
        "timestamp": _timestamps(timestamp, n, single),
        "features": rows,
        "prediction": _per_row(prediction, n, "prediction", single, None),
        "score": _per_row(score, n, "score", single, _checked_score),
    }
    return _assemble(columns)


def build_labels(ids: Any, labels: Any, timestamp: Any) -> Built:
    """Label records ``{"id", "label", "timestamp"}`` from one ``log_labels`` call."""
    single = isinstance(ids, str | int | uuid.UUID | np.integer)
    if not single and not isinstance(ids, list | tuple | np.ndarray | pd.Series | pd.Index):
        raise BadValue(f"ids: expected one id or a list/array of ids, got {type(ids).__name__}")
    n = 1 if single else len(ids)
    columns = {
        "id": _per_row(ids, n, "ids", single, _label_id),
        "label": _per_row(labels, n, "labels", single, None),
        "timestamp": _timestamps(timestamp, n, single),
    }
    return _assemble(columns)


def _label_id(value: Any) -> Any:
    if value is None:
        raise BadValue("ids: a label needs the id of its prediction")
    return _record_id(value)


def _checked_score(value: Any) -> Any:
    if not is_score(value):
        raise BadValue(f"score: expected a number or a list of numbers, got {type(value).__name__}")
    return value


def _bad_rows(columns: list[list[Any]]) -> set[int]:
    """Rows holding a ``_BAD`` cell (``in`` scans a list at C speed; indices are found only when needed)."""
    return {i for column in columns if _BAD in column for i, v in enumerate(column) if v is _BAD}


def _assemble(columns: dict[str, list[Any]]) -> Built:
    names, values = list(columns), list(columns.values())
    bad = _bad_rows(values)
    rows = enumerate(zip(*values, strict=True))
    records = [dict(zip(names, cells, strict=True)) for i, cells in rows if i not in bad]
    reasons = [", ".join(name for name, column in columns.items() if column[i] is _BAD) for i in sorted(bad)]
    return Built(records, reasons)
