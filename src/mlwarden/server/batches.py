"""Turn an ingestion request body into a validated :class:`Batch`.

JSON bodies carry records ``{"id", "timestamp", "features": {...}, "prediction", "score"}`` — ``score`` a
number, or for a multiclass model a list in the model's class order or an object ``{class: score}``;
Parquet and Arrow IPC bodies (for volume) are tables whose id/timestamp/prediction/score columns are named
as the model's column mapping says, every other column being a feature. Ids and timestamps are kept as
Arrow arrays (they go to the ``predictions`` table as they are); the rest becomes the DataFrame that is
profiled.

Every body is checked against :mod:`mlwarden.server.limits` as early as the format allows — the column
count from an Arrow or Parquet schema before any row is read, from the JSON records' keys before a frame is
built — and every mistake raises :class:`~mlwarden.errors.InputError` naming the field: a hostile or careless
body gets a 4xx, never a 500.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mlwarden.errors import InputError
from mlwarden.schema import ColumnMapping
from mlwarden.server import limits
from mlwarden.server.digest import content_hash
from mlwarden.server.limits import MAX_ROWS
from mlwarden.store.schema import Batch as BatchRow
from mlwarden.store.schema import Prediction

JSON_TYPES = ("application/json",)
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet", "application/parquet")
ARROW_TYPES = ("application/vnd.apache.arrow.stream", "application/vnd.apache.arrow.file")
TABLE_TYPES = (*PARQUET_TYPES, *ARROW_TYPES)


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

    def content_hash(self) -> str:
        """SHA-256 of the rows as sent (ids, timestamps, features, outputs) and the batch's fingerprint and
        model version; the same rows hash alike whatever the wire (see :mod:`mlwarden.server.digest`)."""
        meta = {"fingerprint": self.fingerprint, "model_version": self.model_version}
        # ids and times under names no column can have (a column name holds no control character)
        return content_hash(self.frame, {"\x01id": self.ids, "\x01timestamp": self.timestamps}, meta=meta)


def check_batch_id(batch_id: Any) -> str:
    """A batch id: a non-empty string that fits the store's column (at most 200 characters, no NUL)."""
    limit = limits.text_limit(BatchRow.__table__.c.batch_id)
    if not isinstance(batch_id, str) or not batch_id or len(batch_id) > limit:
        raise InputError(f"batch_id: expected a non-empty string of at most {limit} characters")
    limits.check_text(batch_id, BatchRow.__table__.c.batch_id, "batch_id")
    return batch_id


def check_meta(fingerprint: Any = None, model_version: Any = None) -> dict[str, str | None]:
    """The batch's ``fingerprint`` and ``model_version``: strings (or null) that fit the store."""
    meta = {"fingerprint": fingerprint, "model_version": model_version}
    for key, value in meta.items():
        if value is not None and not isinstance(value, str):
            raise InputError(f"{key}: expected a string or null, got {type(value).__name__}")
        limits.check_text(value, BatchRow.__table__.c[key], key)
    return meta


def parse_json(body: bytes) -> Any:
    """Parse a JSON body: orjson (5× faster than the standard library on 1,000 records), falling back to
    ``json`` for what only it accepts (``NaN`` and ``Infinity`` literals, sent by some clients) — reading
    integers past 64 bits as floats, as orjson does. Refuses nesting deeper than the parsers' recursion
    limits."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body, parse_int=_integer)
    except RecursionError:
        raise InputError("body: JSON nested too deeply (at most about 1,000 levels parse)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"body: not valid JSON: {exc}") from None


def _integer(text: str) -> int | float:
    """An integer as orjson reads it: exact within [-2**63, 2**64), else a float (never a 5,000-digit int)."""
    if len(text) <= 21 and -(2**63) <= (value := int(text)) < 2**64:
        return value
    return float(text)


def from_json(payload: Any, mapping: ColumnMapping, *, max_columns: int | None = None) -> Batch:
    """Validate a JSON batch envelope and its records; errors name the field (``records[3].features``).
    Raises InputError past ``max_columns`` feature names (default :func:`limits.max_columns`)."""
    if not isinstance(payload, dict):
        raise InputError("body: expected a JSON object with batch_id and records")
    batch_id = check_batch_id(payload.get("batch_id"))
    meta = check_meta(payload.get("fingerprint"), payload.get("model_version"))
    records = payload.get("records")
    if not isinstance(records, list) or not records:
        raise InputError("records: expected a non-empty list of prediction records")
    if len(records) > MAX_ROWS:
        raise InputError(f"records: at most {MAX_ROWS:,} per batch, got {len(records):,}")
    fields = _record_fields(records, limits.max_columns(max_columns))
    features = pd.DataFrame.from_records(fields["features"])
    frame = pd.DataFrame(index=features.index)
    frame[mapping.prediction] = fields["prediction"]
    _add_scores(frame, fields["score"], mapping)
    clash = sorted(set(features.columns) & {*frame.columns, mapping.id, mapping.timestamp, mapping.target})
    if clash:
        raise InputError(f"records[].features: {', '.join(clash)} clash with the model's role columns")
    _check_nesting(features)
    frame = pd.concat([frame, features], axis=1)
    if frame[mapping.prediction].isna().all():
        frame = frame.drop(columns=mapping.prediction)
    ids = pa.array([None if i is None else str(i) for i in fields["id"]], pa.string())
    times = parsed_times(pd.Series(fields["timestamp"], dtype=object), mapping.timestamp)
    return _batch(batch_id, frame, _checked_ids(ids, mapping.id, batch_id), times, mapping, **meta)


NULL = type(None)
RECORD_FIELDS = {  # field: (the types it may hold, what the error says was expected); booleans are no ids
    "id": ({str, int, NULL}, "a string or an integer"),
    "timestamp": ({str, NULL}, "an ISO-8601 string"),
    "prediction": ({str, int, float, bool, NULL}, "a label (text, number or boolean)"),
    "features": ({dict}, "an object mapping feature names to values"),
}


def _record_fields(records: list[Any], max_columns: int) -> dict[str, list[Any]]:
    """The records' fields as lists (features ``{}`` where none were sent, others None). Each record is an
    object, each field of a type :data:`RECORD_FIELDS` allows, at most ``max_columns`` feature names over
    all records — checked field by field, before any frame exists."""
    if {type(r) for r in records} != {dict}:
        i = next(i for i, r in enumerate(records) if type(r) is not dict)
        raise InputError(f"records[{i}]: expected an object, got {type(records[i]).__name__}")
    fields = {key: [r.get(key) for r in records] for key in ("id", "timestamp", "prediction", "score")}
    fields["features"] = [r.get("features", {}) for r in records]
    for key, (allowed, expected) in RECORD_FIELDS.items():
        values = fields[key]
        if not {type(v) for v in values} <= allowed:
            i = next(i for i, v in enumerate(values) if type(v) not in allowed)
            raise InputError(f"records[{i}].{key}: expected {expected}, got {type(values[i]).__name__}")
    names = set().union(*fields["features"])
    limits.check_column_count(len(names), max_columns, "records[].features")
    limits.check_names(names, "records[].features")
    return fields


def _check_nesting(features: pd.DataFrame) -> None:
    """Feature values that are lists or objects nest at most :data:`limits.MAX_NESTING` levels (deeper ones
    would overflow the recursion of everything that prints or hashes them)."""
    for name in features.columns:
        values = features[name]
        if values.dtype != object:
            continue
        for row, value in enumerate(values):
            if isinstance(value, list | dict) and _depth(value) > limits.MAX_NESTING:
                raise InputError(
                    f"records[{row}].features.{name}: nested deeper than {limits.MAX_NESTING} levels"
                )


def _depth(value: list | dict) -> int:
    """Levels of lists/objects in ``value``, counted without recursion (stops past MAX_NESTING)."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= limits.MAX_NESTING:
        item, level = stack.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children if isinstance(child, list | dict))
    return deepest


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
            numbers = (s is None or isinstance(s, int | float) for s in scores)
            bad = next((i for i, number in enumerate(numbers) if not number), 0)
            raise InputError(f"records[{bad}].score: expected a number, got {scores[bad]!r:.80}") from None
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
    *,
    max_columns: int | None = None,
    fingerprint: Any = None,
    model_version: Any = None,
) -> Batch:
    """Read a Parquet or Arrow IPC body: columns named by the model's mapping (``layout="columns"``), or the
    JSON records' layout (``"records"``, what the SDK sends: see :func:`from_records_table`). The column
    count (nested fields included) is checked against ``max_columns`` on the schema, before any row is
    read."""
    batch_id = check_batch_id(batch_id)
    meta = check_meta(fingerprint, model_version)
    table = _read_table(body, content_type, layout, limits.max_columns(max_columns))
    try:
        if layout == "records":
            return from_records_table(table, mapping, batch_id, **meta)
        return from_arrow(table, mapping, batch_id, **meta)
    except pa.ArrowException as exc:  # a type no check above foresaw: still the sender's mistake
        raise InputError(f"body: the table cannot be read as a batch: {_first_line(exc)}") from None


def _read_table(body: bytes, content_type: str, layout: str, max_columns: int) -> pa.Table:
    import pyarrow.ipc
    import pyarrow.parquet as pq

    try:
        if content_type in PARQUET_TYPES:
            reader = pq.ParquetFile(io.BytesIO(body))
            limits.check_column_count(reader.metadata.num_columns, max_columns, "body")  # leaf columns
            _check_schema(reader.schema_arrow, layout, max_columns)
            rows = reader.metadata.num_rows
            if rows > MAX_ROWS:
                raise InputError(f"body: at most {MAX_ROWS:,} rows per batch, got {rows:,}")
            table = reader.read()
        else:
            if content_type == "application/vnd.apache.arrow.file":
                reader = pyarrow.ipc.open_file(pa.BufferReader(body))
            else:
                reader = pyarrow.ipc.open_stream(pa.BufferReader(body))
            _check_schema(reader.schema, layout, max_columns)
            table = reader.read_all()
        table.validate(full=True)  # IPC buffers are not checked on read: bad offsets must not reach pandas
        return table
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:  # names and metadata are UTF-8 or bust
        raise InputError(f"body: not a readable {content_type} table: {_first_line(exc)}") from None


def _check_schema(schema: pa.Schema, layout: str, max_columns: int) -> None:
    """Refuse a table of more than ``max_columns`` columns: leaf fields, so a struct of a million fields
    counts a million (the records layout's ``features`` struct holds the features). The top-level count
    is checked first, without visiting a million fields in Python."""
    limits.check_column_count(len(schema), max_columns, "body")
    fields = list(schema)
    if layout == "records":
        fields = [f for f in fields if f.name != "features"] + [
            child for f in fields if f.name == "features" and pa.types.is_struct(f.type) for child in f.type
        ]
    limits.check_column_count(sum(_leaves(f.type, max_columns) for f in fields), max_columns, "body")
    limits.check_names(schema.names, "body")
    if layout == "records":
        limits.check_names([f.name for f in fields if f.name not in schema.names], "features")


def _leaves(kind: pa.DataType, most: int) -> int:
    """Leaf fields of an Arrow type, counted without recursion (stops once past ``most``)."""
    leaves, stack = 0, [kind]
    while stack and leaves <= most:
        kind = stack.pop()
        if kind.num_fields == 0:
            leaves += 1
        elif kind.num_fields > most:
            return kind.num_fields
        stack.extend(kind.field(i).type for i in range(kind.num_fields))
    return leaves


def from_records_table(table: pa.Table, mapping: ColumnMapping, batch_id: str, **meta: Any) -> Batch:
    """A table laid out like JSON records: ``id``, ``timestamp``, ``prediction``, ``score`` (a number, or a
    list with one entry per class in the mapping's class order) and ``features`` (a struct column: feature
    names never clash with the model's role names). Renamed to the mapping's column names, then read as
    :func:`from_arrow` reads any table."""
    unknown = sorted(set(table.column_names) - {"id", "timestamp", "prediction", "score", "features"})
    if unknown:
        shown = ", ".join(repr(name) for name in unknown)
        raise InputError(f"body: unexpected columns {shown} in a records-layout table")
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
        if not all(_numeric(f.type) for f in score.type):
            raise InputError(f"score: expected numbers as class scores, got {score.type}")
        return {
            name: pc.struct_field(score, fields.index(key)).cast(pa.float64())
            for key, name in zip(keys, names, strict=True)
        }
    if pa.types.is_list(score.type) or pa.types.is_large_list(score.type):
        if not _numeric(score.type.value_type):
            raise InputError(f"score: expected lists of numbers as class scores, got {score.type}")
        lengths = pc.list_value_length(score).fill_null(width)
        if pc.any(pc.not_equal(lengths, width)).as_py():
            raise InputError(f"score: expected a list of {width} class scores ({names})")
        values = pc.list_flatten(score.cast(pa.large_list(pa.float64())).fill_null([float("nan")] * width))
        matrix = values.to_numpy(zero_copy_only=False).astype(float).reshape(len(score), width)
        return {name: pa.array(matrix[:, j]) for j, name in enumerate(names)}
    if not _numeric(score.type):
        raise InputError(f"score: expected numbers, got {score.type}")
    if width > 1:
        raise InputError(f"score: expected a list of {width} class scores ({names}), got one number a row")
    return {names[0]: score.cast(pa.float64())}


def _time_like(kind: pa.DataType) -> bool:
    return any(
        check(kind)
        for check in (pa.types.is_timestamp, pa.types.is_string, pa.types.is_large_string, pa.types.is_null)
    )


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)


def from_frame(frame: pd.DataFrame, mapping: ColumnMapping, batch_id: str, **meta: Any) -> Batch:
    """A batch from a DataFrame with the mapping's columns (ids and timestamps optional)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return from_arrow(table, mapping, check_batch_id(batch_id), **check_meta(**meta))


def from_arrow(table: pa.Table, mapping: ColumnMapping, batch_id: str, **meta: Any) -> Batch:
    """Validate an Arrow table: ids and timestamps stay Arrow arrays, the other columns become the frame.
    Output columns must hold what they stand for: labels as predictions, numbers as scores."""
    if table.num_rows == 0:
        raise InputError("body: the table has no rows")
    if table.num_rows > MAX_ROWS:
        raise InputError(f"body: at most {MAX_ROWS:,} rows per batch, got {table.num_rows:,}")
    id_col, ts_col = mapping.id, mapping.timestamp
    names = table.column_names
    _check_output_types(table, mapping)
    if id_col in names:
        try:
            ids = pc.cast(table.column(id_col), pa.string()).combine_chunks()
        except pa.ArrowException:
            raise InputError(f"{id_col}: expected strings or integers as prediction ids") from None
    else:
        ids = pa.nulls(table.num_rows, pa.string())
    stamps = table.column(ts_col).combine_chunks() if ts_col in names else None
    if stamps is not None and pa.types.is_date(stamps.type):
        stamps = stamps.cast(pa.timestamp("s"))  # a day: its midnight UTC
    if stamps is not None and not _time_like(stamps.type):
        raise InputError(f"{ts_col}: expected timestamps or ISO-8601 strings, got {stamps.type}")
    if stamps is not None and pa.types.is_timestamp(stamps.type):
        # Arrow timestamps are UTC instants whatever their zone (naive ones are taken as UTC, as in JSON)
        if stamps.type.unit == "ns":
            stamps = pc.floor_temporal(stamps, unit="microsecond")
        try:
            times = stamps.cast(STAMP)  # safe: a time past what microseconds hold is refused, not wrapped
        except pa.ArrowInvalid:
            raise InputError(f"{ts_col}: a timestamp is out of range") from None
    else:
        missing = pd.Series([None] * table.num_rows, dtype=object)
        times = parsed_times(stamps.to_pandas() if stamps is not None else missing, ts_col)
    # the pandas metadata of a table is the sender's word on dtypes: not trusted, not needed to profile
    frame = _frame(table.drop_columns([c for c in (id_col, ts_col) if c in names]))
    return _batch(batch_id, frame, _checked_ids(ids, id_col, batch_id), times, mapping, **meta)


def _frame(table: pa.Table) -> pd.DataFrame:
    """The table as pandas, without its pandas metadata (the sender's word on dtypes: not trusted, not
    needed to profile). A column pandas cannot hold (a time past year 9999, say) is named in an InputError."""
    table = table.replace_schema_metadata(None)
    try:
        return table.to_pandas(use_threads=False)
    except (pa.ArrowException, ValueError, OverflowError):
        for name, column in zip(table.column_names, table.columns, strict=True):
            try:
                column.to_pandas()
            except (pa.ArrowException, ValueError, OverflowError) as exc:
                raise InputError(f"{name}: values pandas cannot hold: {_first_line(exc)}") from None
        raise


def _check_output_types(table: pa.Table, mapping: ColumnMapping) -> None:
    schema = table.schema
    for name in mapping.score_columns:
        if name in schema.names and not _numeric(schema.field(name).type):
            raise InputError(f"{name}: expected numbers as scores, got {schema.field(name).type}")
    if mapping.prediction in schema.names:
        kind = schema.field(mapping.prediction).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            raise InputError(f"{mapping.prediction}: expected labels (text, numbers or booleans), got {kind}")


def _batch(
    batch_id: str, frame: pd.DataFrame, ids: pa.Array, times: pa.Array, mapping: ColumnMapping, **meta: Any
) -> Batch:
    """The checks every body shares, on what it became: something to monitor, names and text that fit the
    store, times in range."""
    if frame.shape[1] == 0:
        outputs = ", ".join([mapping.prediction, *mapping.score_columns])
        raise InputError(
            f"body: the batch holds ids and timestamps only; send features or the model's outputs "
            f"({outputs}) — a window of ids alone cannot be evaluated"
        )
    limits.check_names([str(c) for c in frame.columns], "columns")
    limits.check_frame_text(frame)
    limits.check_times(times, mapping.timestamp)
    return Batch(batch_id, frame, ids, times, **meta)


def _checked_ids(ids: pa.Array, column: str, batch_id: str) -> pa.Array:
    """Ids as sent; generated from the batch id when none were sent (retries then give the same ids)."""
    missing = ids.null_count
    if missing == len(ids):
        return pa.array([f"{batch_id}:{i}" for i in range(len(ids))], pa.string())
    if missing:
        raise InputError(f"{column}: {missing} records have no id (give every record an id, or none)")
    limit = limits.text_limit(Prediction.__table__.c.prediction_id)
    if pc.min(pc.utf8_length(ids)).as_py() == 0:
        raise InputError(f"{column}: prediction ids must be non-empty and at most {limit} characters")
    limits.check_texts(ids, Prediction.__table__.c.prediction_id, column)
    return ids


def parsed_times(values: pd.Series, column: str) -> pa.Array:
    """ISO-8601 strings (or datetimes) as UTC microseconds; missing ones stay null (filled at ingestion)."""
    try:
        stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError) as exc:
        message = _bad_time(values, column) or f"{column}: expected ISO-8601 timestamps: {_first_line(exc)}"
        raise InputError(message) from None
    # all-missing parses as seconds; naive UTC, since pyarrow reading a tz-aware Series goes through its
    # deprecated tz-dropping .values
    return pa.array(stamps.dt.floor("us").dt.tz_convert(None).dt.as_unit("us"), STAMP)


def _bad_time(values: pd.Series, column: str) -> str | None:
    """The message naming the first value of ``values`` that is not an ISO-8601 time (``None`` if none is
    found: pandas' own message then stands)."""
    parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    bad = np.flatnonzero(values.notna().to_numpy(bool) & parsed.isna().to_numpy(bool))
    if not len(bad):
        return None
    row = int(bad[0])
    value = values.iloc[row]
    return f"{column}: row {row} is {value!r}, expected an ISO-8601 time such as 2026-11-30T08:00:00Z"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
