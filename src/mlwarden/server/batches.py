"""Turn an ingestion request body into a validated :class:`Batch`.

JSON bodies carry records ``{"id", "timestamp", "features": {...}, "prediction", "score"}`` — ``score`` a
number, or for a multiclass model a list in the model's class order or an object ``{class: score}``;
Parquet and Arrow IPC bodies (for volume) are tables whose id/timestamp/prediction/score columns are named
as the model's column mapping says, every other column being a feature. Ids and timestamps are kept as
Arrow arrays (they go to the ``predictions`` table as they are); the rest becomes the DataFrame that is
profiled.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mlwarden.errors import InputError
from mlwarden.schema import ColumnMapping

JSON_TYPES = ("application/json",)
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet", "application/parquet")
ARROW_TYPES = ("application/vnd.apache.arrow.stream", "application/vnd.apache.arrow.file")
TABLE_TYPES = (*PARQUET_TYPES, *ARROW_TYPES)
MAX_ROWS = 200_000
MAX_ID_LENGTH = 200


STAMP = pa.timestamp("us", tz="UTC")  # how prediction times are stored


@dataclass(slots=True)
class Batch:
    """A validated batch: ``frame`` holds the features and outputs (columns named by the model's mapping),
    ``ids`` the prediction ids (strings) and ``timestamps`` their times (UTC; null where none was sent)."""

    batch_id: str
    frame: pd.DataFrame
    ids: pa.Array
    timestamps: pa.Array
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


def from_json(payload: Any, mapping: ColumnMapping) -> Batch:
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
    frame[mapping.prediction] = [r.get("prediction") for r in records]
    _add_scores(frame, [r.get("score") for r in records], mapping)
    clash = sorted(set(features.columns) & {*frame.columns, mapping.id, mapping.timestamp, mapping.target})
    if clash:
        raise InputError(f"records[].features: {', '.join(clash)} clash with the model's role columns")
    frame = pd.concat([frame, features], axis=1)
    if frame[mapping.prediction].isna().all():
        frame = frame.drop(columns=mapping.prediction)
    given = [r.get("id") for r in records]
    ids = pa.array([None if i is None else str(i) for i in given], pa.string())
    stamps = pd.Series([r.get("timestamp") for r in records], dtype=object)
    return Batch(
        batch_id=batch_id,
        frame=frame,
        ids=_checked_ids(ids, mapping.id, batch_id),
        timestamps=_parsed_times(stamps, mapping.timestamp),
        fingerprint=_optional_str(payload, "fingerprint"),
        model_version=_optional_str(payload, "model_version"),
    )


def _add_scores(frame: pd.DataFrame, scores: list[Any], mapping: ColumnMapping) -> None:
    """Scores arrive as a number (a model with one score column) or, with one entry per class, as a list in
    the mapping's class order or an object keyed by class (the ``scores`` map's labels; by score column
    when the mapping names no classes). Each becomes the mapping's score column of its class."""
    if all(s is None for s in scores):
        return
    names = mapping.score_columns
    if len(names) == 1:
        try:
            frame[names[0]] = pd.to_numeric(pd.Series(scores, index=frame.index), errors="raise")
        except (ValueError, TypeError):
            bad = next(i for i, s in enumerate(scores) if s is not None and not isinstance(s, int | float))
            raise InputError(f"records[{bad}].score: expected a number, got {scores[bad]!r}") from None
        return
    keys = [str(c) for c in mapping.classes] if mapping.classes is not None else names
    expected = f"a list of {len(names)} class scores or an object {{class: score}} for {keys}"
    rows = []
    for i, s in enumerate(scores):
        if isinstance(s, dict):
            given = {str(k): v for k, v in s.items()}
            if given.keys() != set(keys):
                raise InputError(f"records[{i}].score: expected {expected}, got keys {sorted(given)}")
            s = [given[k] for k in keys]
        if s is not None and (not isinstance(s, list) or len(s) != len(names)):
            raise InputError(f"records[{i}].score: expected {expected}, got {s!r}")
        rows.append([np.nan] * len(names) if s is None else s)
    try:
        matrix = np.array(rows, dtype=float)
    except (ValueError, TypeError):
        raise InputError(f"records[].score: expected numbers as class scores ({expected})") from None
    for j, name in enumerate(names):
        frame[name] = matrix[:, j]


def from_table(
    body: bytes,
    content_type: str,
    batch_id: Any,
    mapping: ColumnMapping,
    layout: str = "columns",
    **meta: Any,
) -> Batch:
    """Read a Parquet or Arrow IPC body: columns named by the model's mapping (``layout="columns"``), or the
    JSON records' layout (``"records"``, what the SDK sends: see :func:`from_records_table`)."""
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
    if layout == "records":
        return from_records_table(table, mapping, batch_id, **meta)
    return from_arrow(table, mapping, batch_id, **meta)


def from_records_table(table: pa.Table, mapping: ColumnMapping, batch_id: str, **meta: Any) -> Batch:
    """A table laid out like JSON records: ``id``, ``timestamp``, ``prediction``, ``score`` (a number, or a
    list with one entry per class in the mapping's class order) and ``features`` (a struct column: feature
    names never clash with the model's role names). Renamed to the mapping's column names, then read as
    :func:`from_arrow` reads any table."""
    unknown = sorted(set(table.column_names) - {"id", "timestamp", "prediction", "score", "features"})
    if unknown:
        raise InputError(f"body: unexpected columns {', '.join(unknown)} in a records-layout table")
    columns: dict[str, pa.Array] = {}
    for key in ("id", "timestamp", "prediction"):
        if key in table.column_names and table.column(key).null_count < table.num_rows:
            columns[getattr(mapping, key)] = table.column(key).combine_chunks()
    if "score" in table.column_names:
        columns |= _scores_by_role(table.column("score").combine_chunks(), mapping)
    if "features" in table.column_names:
        features = table.column("features").combine_chunks()
        if not pa.types.is_struct(features.type):
            raise InputError("features: expected a struct column mapping feature names to values")
        roles = {*columns, mapping.id, mapping.timestamp, mapping.target}
        clash = sorted({f.name for f in features.type} & roles)
        if clash:
            raise InputError(f"features: {', '.join(clash)} clash with the model's role columns")
        columns |= {f.name: child for f, child in zip(features.type, features.flatten(), strict=True)}
    return from_arrow(pa.table(columns) if columns else table.select([]), mapping, batch_id, **meta)


def _scores_by_role(score: pa.Array, mapping: ColumnMapping) -> dict[str, pa.Array]:
    """The records layout's ``score`` column as the mapping's score columns: numbers, lists in the class
    order, or a struct with a field per class (what a ``{class: score}`` object becomes in Arrow)."""
    if score.null_count == len(score):
        return {}
    names = mapping.score_columns
    width = len(names)
    if pa.types.is_struct(score.type):
        keys = [str(c) for c in mapping.classes] if mapping.classes is not None else names
        fields = [f.name for f in score.type]
        if sorted(fields) != sorted(keys):
            raise InputError(f"score: expected a field per class {keys}, got {fields}")
        try:
            return {
                name: pc.struct_field(score, fields.index(key)).cast(pa.float64())
                for key, name in zip(keys, names, strict=True)
            }
        except pa.ArrowInvalid:
            raise InputError("score: expected numbers as class scores") from None
    if pa.types.is_list(score.type) or pa.types.is_large_list(score.type):
        lengths = pc.list_value_length(score).fill_null(width)
        if pc.any(pc.not_equal(lengths, width)).as_py():
            raise InputError(f"score: expected a list of {width} class scores ({names})")
        matrix = pc.list_flatten(score.fill_null([float("nan")] * width)).to_numpy(zero_copy_only=False)
        matrix = matrix.astype(float).reshape(len(score), width)
        return {name: pa.array(matrix[:, j]) for j, name in enumerate(names)}
    if not (pa.types.is_integer(score.type) or pa.types.is_floating(score.type)):
        raise InputError(f"score: expected numbers, got {score.type}")
    if width > 1:
        raise InputError(f"score: expected a list of {width} class scores ({names}), got one number a row")
    return {names[0]: score.cast(pa.float64())}


def from_frame(frame: pd.DataFrame, mapping: ColumnMapping, batch_id: str, **meta: Any) -> Batch:
    """A batch from a DataFrame with the mapping's columns (ids and timestamps optional)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return from_arrow(table, mapping, check_batch_id(batch_id), **meta)


def from_arrow(table: pa.Table, mapping: ColumnMapping, batch_id: str, **meta: Any) -> Batch:
    """Validate an Arrow table: ids and timestamps stay Arrow arrays, the other columns become the frame."""
    if table.num_rows == 0:
        raise InputError("body: the table has no rows")
    if table.num_rows > MAX_ROWS:
        raise InputError(f"body: at most {MAX_ROWS:,} rows per batch, got {table.num_rows:,}")
    id_col, ts_col = mapping.id, mapping.timestamp
    names = table.column_names
    if id_col in names:
        try:
            ids = pc.cast(table.column(id_col), pa.string()).combine_chunks()
        except pa.ArrowException:
            raise InputError(f"{id_col}: expected strings or integers as prediction ids") from None
    else:
        ids = pa.nulls(table.num_rows, pa.string())
    stamps = table.column(ts_col).combine_chunks() if ts_col in names else None
    if stamps is not None and pa.types.is_timestamp(stamps.type):
        # Arrow timestamps are UTC instants whatever their zone (naive ones are taken as UTC, as in JSON)
        if stamps.type.unit == "ns":
            stamps = pc.floor_temporal(stamps, unit="microsecond")
        times = stamps.cast(STAMP, safe=False)
    else:
        missing = pd.Series([None] * table.num_rows, dtype=object)
        times = _parsed_times(stamps.to_pandas() if stamps is not None else missing, ts_col)
    frame = table.drop_columns([c for c in (id_col, ts_col) if c in names]).to_pandas(use_threads=False)
    return Batch(batch_id, frame, _checked_ids(ids, id_col, batch_id), times, **meta)


def _checked_ids(ids: pa.Array, column: str, batch_id: str) -> pa.Array:
    """Ids as sent; generated from the batch id when none were sent (retries then give the same ids)."""
    missing = ids.null_count
    if missing == len(ids):
        return pa.array([f"{batch_id}:{i}" for i in range(len(ids))], pa.string())
    if missing:
        raise InputError(f"{column}: {missing} records have no id (give every record an id, or none)")
    lengths = pc.utf8_length(ids)
    if pc.min(lengths).as_py() == 0 or pc.max(lengths).as_py() > MAX_ID_LENGTH:
        raise InputError(f"{column}: prediction ids must be non-empty and at most {MAX_ID_LENGTH} characters")
    return ids


def _parsed_times(values: pd.Series, column: str) -> pa.Array:
    """ISO-8601 strings (or datetimes) as UTC microseconds; missing ones stay null (filled at ingestion)."""
    try:
        stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise InputError(f"{column}: expected ISO-8601 timestamps: {exc}") from None
    return pa.array(stamps.dt.floor("us").dt.as_unit("us"), STAMP)  # all-missing parses as seconds
