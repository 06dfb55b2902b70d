"""Turn an ingestion request body into one table whose columns carry the model's role names.

JSON bodies carry records ``{"id", "timestamp", "features": {...}, "prediction", "score"}``; Parquet and Arrow
IPC bodies (for volume) are tables whose id/timestamp/prediction/score columns are named as the model's
``columns`` roles say, every other column being a feature.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlwarden.errors import InputError

JSON_TYPES = ("application/json",)
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet", "application/parquet")
ARROW_TYPES = ("application/vnd.apache.arrow.stream", "application/vnd.apache.arrow.file")
TABLE_TYPES = (*PARQUET_TYPES, *ARROW_TYPES)
MAX_ROWS = 200_000
MAX_ID_LENGTH = 200


@dataclass(slots=True)
class Batch:
    """A validated batch: ``frame`` has role columns (id, timestamp as UTC datetimes) plus features."""

    batch_id: str
    frame: pd.DataFrame
    fingerprint: str | None = None
    model_version: str | None = None


def check_batch_id(batch_id: Any) -> str:
    if not isinstance(batch_id, str) or not batch_id or len(batch_id) > 200:
        raise InputError("batch_id: expected a non-empty string of at most 200 characters")
    return batch_id


def _optional_str(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{key}: expected a string or null, got {type(value).__name__}")
    return value


def from_json(payload: Any, roles: dict[str, Any]) -> Batch:
    """Validate a JSON batch envelope and its records; errors name the field (``records[3].features``)."""
    if not isinstance(payload, dict):
        raise InputError("body: expected a JSON object with batch_id and records")
    batch_id = check_batch_id(payload.get("batch_id"))
    records = payload.get("records")
    if not isinstance(records, list) or not records:
        raise InputError("records: expected a non-empty list of prediction records")
    if len(records) > MAX_ROWS:
        raise InputError(f"records: at most {MAX_ROWS:,} per batch, got {len(records):,}")
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise InputError(f"records[{i}]: expected an object, got {type(record).__name__}")
        if not isinstance(record.get("features", {}), dict):
            raise InputError(f"records[{i}].features: expected an object mapping feature names to values")
    features = pd.DataFrame.from_records([r.get("features") or {} for r in records])
    frame = pd.DataFrame(index=features.index)
    frame[roles["id"]] = [r.get("id") for r in records]
    frame[roles["timestamp"]] = [r.get("timestamp") for r in records]
    frame[roles["prediction"]] = [r.get("prediction") for r in records]
    _add_scores(frame, [r.get("score") for r in records], roles["score"])
    clash = sorted(set(features.columns) & set(frame.columns))
    if clash:
        raise InputError(f"records[].features: {', '.join(clash)} clash with the model's output/id columns")
    frame = pd.concat([frame, features], axis=1)
    if frame[roles["prediction"]].isna().all():
        frame = frame.drop(columns=roles["prediction"])
    return Batch(
        batch_id=batch_id,
        frame=normalise(frame, roles, batch_id),
        fingerprint=_optional_str(payload, "fingerprint"),
        model_version=_optional_str(payload, "model_version"),
    )


def _add_scores(frame: pd.DataFrame, scores: list[Any], names: list[str]) -> None:
    """Scores arrive as a number (binary / regression) or a list with one entry per class."""
    if all(s is None for s in scores):
        return
    if any(isinstance(s, list) for s in scores):
        width = len(names)
        for i, s in enumerate(scores):
            if s is not None and (not isinstance(s, list) or len(s) != width):
                raise InputError(f"records[{i}].score: expected a list of {width} class scores ({names})")
        matrix = np.array([s if s is not None else [np.nan] * width for s in scores], dtype=float)
        for j, name in enumerate(names):
            frame[name] = matrix[:, j]
        return
    try:
        frame[names[0]] = pd.to_numeric(pd.Series(scores, index=frame.index), errors="raise")
    except (ValueError, TypeError):
        bad = next(i for i, s in enumerate(scores) if s is not None and not isinstance(s, int | float))
        raise InputError(f"records[{bad}].score: expected a number, got {scores[bad]!r}") from None


def from_table(body: bytes, content_type: str, batch_id: Any, roles: dict[str, Any], **meta: Any) -> Batch:
    """Read a Parquet or Arrow IPC body (columns named by the model's roles)."""
    import pyarrow as pa
    import pyarrow.ipc
    import pyarrow.parquet as pq

    batch_id = check_batch_id(batch_id)
    try:
        if content_type in PARQUET_TYPES:
            table = pq.read_table(io.BytesIO(body))
        elif content_type == "application/vnd.apache.arrow.file":
            table = pyarrow.ipc.open_file(pa.BufferReader(body)).read_all()
        else:
            table = pyarrow.ipc.open_stream(pa.BufferReader(body)).read_all()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"body: not a readable {content_type} table: {exc}") from None
    if table.num_rows == 0:
        raise InputError("body: the table has no rows")
    if table.num_rows > MAX_ROWS:
        raise InputError(f"body: at most {MAX_ROWS:,} rows per batch, got {table.num_rows:,}")
    frame = table.to_pandas(use_threads=False)  # a batch is small: threads cost more than they save
    return Batch(batch_id=batch_id, frame=normalise(frame, roles, batch_id), **meta)


def normalise(frame: pd.DataFrame, roles: dict[str, Any], batch_id: str) -> pd.DataFrame:
    """Ids as strings (generated from the batch id when absent, so retries give the same ids) and
    timestamps as UTC datetimes (missing ones are filled by the caller with the receive time)."""
    id_col, ts_col = roles["id"], roles["timestamp"]
    n = len(frame)
    if id_col not in frame or frame[id_col].isna().all():
        frame[id_col] = [f"{batch_id}:{i}" for i in range(n)]
    ids = frame[id_col]
    if ids.isna().any():
        missing = int(ids.isna().sum())
        raise InputError(f"{id_col}: {missing} records have no id (give every record an id, or none)")
    frame[id_col] = ids.astype(str)
    lengths = frame[id_col].str.len()
    if ((lengths > MAX_ID_LENGTH) | (lengths == 0)).any():
        raise InputError(f"{id_col}: prediction ids must be non-empty and at most {MAX_ID_LENGTH} characters")
    if ts_col not in frame:
        frame[ts_col] = pd.NaT
    dtype = frame[ts_col].dtype
    if isinstance(dtype, pd.DatetimeTZDtype) and dtype.unit == "us" and str(dtype.tz) == "UTC":
        return frame  # already as stored (Arrow and Parquet bodies): parsing again costs ~0.1 ms a batch
    try:
        stamps = pd.to_datetime(frame[ts_col], utc=True, format="ISO8601")
        frame[ts_col] = stamps.dt.floor("us").dt.as_unit("us")  # as stored (all-missing parses as seconds)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{ts_col}: expected ISO-8601 timestamps: {exc}") from None
    return frame
