"""A batch's content hash: SHA-256 of a canonical form of its rows.

A repeated ``batch_id`` is a retry when its rows are the same, and a mistake (new rows under an old id) when
they are not; the hash stored with the batch tells the two apart. The canonical form does not depend on the
wire: JSON records and an Arrow or Parquet table of the same rows hash alike. Columns are taken in name
order; numbers (and booleans) as float64 with one NaN and no negative zero; everything else as text
(``str`` of the value), nulls marked apart from empty text. Integers beyond 2**53 that differ only past
float64's precision hash alike — a limit of the canonical form, not a concern for real payloads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

Values = pd.Series | pa.Array


def content_hash(columns: Mapping[str, Values], *, meta: Mapping[str, str | None] | None = None) -> str:
    """Hex SHA-256 of ``columns`` (equal lengths: one value per row) and ``meta`` (batch-level fields)."""
    digest = hashlib.sha256()
    for key, value in sorted((meta or {}).items()):
        given = b"\x00" if value is None else b"\x01" + _framed(value.encode())
        digest.update(_framed(key.encode()) + given)
    for name in sorted(columns):
        digest.update(_framed(name.encode()))
        values = columns[name]
        series = values.to_pandas() if isinstance(values, pa.Array) else values
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            digest.update(b"n" + _numbers(series))
        elif pd.api.types.is_datetime64_any_dtype(series.dtype):
            digest.update(b"t" + _times(series))
        else:
            digest.update(b"s" + _texts(series))
    return digest.hexdigest()


def _framed(data: bytes) -> bytes:
    return len(data).to_bytes(8, "little") + data


def _numbers(series: pd.Series) -> bytes:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isnan(values), np.nan, values + 0.0).tobytes()  # one NaN; -0.0 + 0.0 is 0.0


def _times(series: pd.Series) -> bytes:
    """Instants as UTC microseconds (naive times taken as UTC, as ingestion takes them)."""
    stamps = pa.array(series, from_pandas=True).cast(pa.timestamp("us", "UTC"), safe=False)
    micros = stamps.cast(pa.int64()).fill_null(np.iinfo(np.int64).min)
    return micros.to_numpy(zero_copy_only=False).tobytes()


def _texts(series: pd.Series) -> bytes:
    """Each value's length (-1: null) then all the text, from the Arrow buffers (no per-row Python)."""
    text = pa.array(series.astype("string"), pa.large_string(), from_pandas=True)
    lengths = pc.binary_length(text).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    _, offsets, data = text.buffers()
    bounds = np.frombuffer(offsets, np.int64)[text.offset : text.offset + len(text) + 1]
    return lengths.tobytes() + (data[bounds[0] : bounds[-1]].to_pybytes() if data is not None else b"")
