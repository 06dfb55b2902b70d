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


def content_hash(
    frame: pd.DataFrame, arrays: Mapping[str, pa.Array], *, meta: Mapping[str, str | None] | None = None
) -> str:
    """Hex SHA-256 of the columns of ``frame`` and ``arrays`` (one value per row each; names must differ
    between the two) and ``meta`` (batch-level fields). Numeric columns are hashed as one block."""
    digest = hashlib.sha256()
    for key, value in sorted((meta or {}).items()):
        given = b"\x00" if value is None else b"\x01" + _framed(value.encode())
        digest.update(_framed(key.encode()) + given)
    kinds = frame.dtypes
    numeric = sorted(
        str(n) for n, t in kinds.items() if pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)
    )
    if numeric:
        block = frame[numeric].to_numpy(dtype=np.float64, na_value=np.nan).T  # a row per column
        digest.update(b"n" + b"".join(_framed(n.encode()) for n in numeric) + _numbers(block))
    others = {str(n): frame[n] for n in frame.columns if str(n) not in numeric}
    for name, values in sorted({**others, **arrays}.items()):
        if isinstance(values, pd.Series) and pd.api.types.is_datetime64_any_dtype(values.dtype):
            values = pa.array(values, from_pandas=True)
        timely = isinstance(values, pa.Array) and (
            pa.types.is_timestamp(values.type) or pa.types.is_date(values.type)
        )
        digest.update(_framed(name.encode()) + (b"t" + _times(values) if timely else b"s" + _texts(values)))
    return digest.hexdigest()


def _framed(data: bytes) -> bytes:
    return len(data).to_bytes(8, "little") + data


def _numbers(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(np.where(np.isnan(values), np.nan, values + 0.0)).tobytes()  # -0.0 + 0.0 is 0


def _times(values: pa.Array) -> bytes:
    """Instants as UTC microseconds (naive times taken as UTC, as ingestion takes them)."""
    stamps = values.cast(pa.timestamp("us", "UTC"), safe=False)
    micros = stamps.cast(pa.int64()).fill_null(np.iinfo(np.int64).min)
    return micros.to_numpy(zero_copy_only=False).tobytes()


def _texts(values: pd.Series | pa.Array) -> bytes:
    """Each value's length (-1: null) then all the text, from the Arrow buffers (no per-row Python)."""
    if isinstance(values, pd.Series):
        text_like = pd.api.types.is_string_dtype(values.dtype) and values.dtype != object
        values = pa.array(values if text_like else values.astype("string"), from_pandas=True)
    text = values.cast(pa.large_string())
    lengths = pc.binary_length(text).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    _, offsets, data = text.buffers()
    bounds = np.frombuffer(offsets, np.int64)[text.offset : text.offset + len(text) + 1]
    return lengths.tobytes() + (data[bounds[0] : bounds[-1]].to_pybytes() if data is not None else b"")
