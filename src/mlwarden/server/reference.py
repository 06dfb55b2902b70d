"""Registering a reference: a saved profile, or data (profiled here, keeping a labelled output sample)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from mlwarden.errors import InputError
from mlwarden.profile import DatasetProfile, profile
from mlwarden.profile.io import with_timestamp_text_parsed
from mlwarden.profile.segments import segment_columns
from mlwarden.profile.serialize import MAGIC
from mlwarden.registry.columns import model_mapping
from mlwarden.schema import ColumnMapping
from mlwarden.server import limits, model_columns
from mlwarden.server.batches import ARROW_TYPES, PARQUET_TYPES
from mlwarden.store import Store
from mlwarden.store.schema import Model, Reference

LABELLED_ROWS = 50_000  # labelled reference rows kept to fit performance estimation (CBPE / DLE)


def read_reference(body: bytes, content_type: str) -> DatasetProfile | pd.DataFrame:
    """A saved profile (recognised by its magic bytes) or a Parquet, Arrow IPC or CSV table."""
    if body.startswith(MAGIC):
        return DatasetProfile.from_bytes(body)
    if not body:
        raise InputError("body: empty; send a saved profile, or Parquet/Arrow/CSV data")
    try:
        if content_type in PARQUET_TYPES:
            return pd.read_parquet(io.BytesIO(body))
        if content_type in ARROW_TYPES:
            import pyarrow as pa
            import pyarrow.ipc

            opener = pyarrow.ipc.open_file if content_type.endswith(".file") else pyarrow.ipc.open_stream
            return opener(pa.BufferReader(body)).read_all().to_pandas()
        if content_type in ("text/csv", "application/csv"):
            # ISO-8601 text read as timestamps, as mlwarden check reads a CSV (batches follow the kinds)
            return with_timestamp_text_parsed(pd.read_csv(io.BytesIO(body), low_memory=False))
    except Exception as exc:  # pyarrow/pandas raise many types; all mean "unreadable body"
        raise InputError(f"body: cannot read as {content_type}: {exc}") from None
    raise InputError(
        f"Content-Type {content_type!r} not supported for a reference: send a profile "
        "(application/octet-stream), Parquet, Arrow IPC or text/csv"
    )


def store_reference(store: Store, model: Model, data: DatasetProfile | pd.DataFrame) -> dict[str, Any]:
    """Profile (if needed) and store the reference as the model's mapping says: id, timestamp, target and
    ``ignore`` columns are not profiled, ``categorical``/``numeric`` set kinds. Raises
    :class:`~mlwarden.errors.InputError` for an empty table, or one missing a column the mapping names for
    kinds, drift settings or some (not all) of its score columns."""
    mapping = model_mapping(model)
    skip = [mapping.id, mapping.timestamp, mapping.target, *mapping.ignore]
    labelled = None
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise InputError("reference: the table has no rows")
        limits.check_names(map(str, data.columns), "reference")  # findings quote them: same rules as batches
        limits.check_frame_text(data)
        _check_named_columns(data, mapping)
        labelled = _labelled_sample(data, mapping)
        data = profile(
            data.drop(columns=[c for c in skip if c in data.columns]),
            mapping=mapping,
            source=f"reference of {model.name}",
        )
    else:
        for column in skip:
            data.columns.pop(column, None)
    columns = model_columns.new_columns(store, model, data.columns)
    with store.session() as session:
        model_columns.record(session.connection(), model, columns)
        row = Reference(model_id=model.id, rows=data.rows, profile=data.to_bytes(), labelled=labelled)
        session.add(row)
        stored = session.get(Model, model.id)
        contract = "kept"
        if stored.contract is None:
            stored.contract, contract = _inferred_contract(data, mapping), "inferred"
    model_columns.remember(store, model, columns)
    return {
        "rows": data.rows,
        "columns": list(data.columns),
        "labelled_rows": _count(labelled),
        "contract": contract,
    }


def _check_named_columns(data: pd.DataFrame, mapping: ColumnMapping) -> None:
    """A column the mapping names for a kind or drift setting, or one score column of several, that the
    reference lacks would be silently ignored: say so instead."""
    present = set(map(str, data.columns))
    named = mapping.named_columns()
    kinds = ("categorical", "numeric", "drift")
    missing = [c for c, field in named.items() if field in kinds and c not in present]
    scores = mapping.score_columns
    if any(c in present for c in scores):
        missing += [c for c in scores if c not in present]
    if missing:
        column = missing[0]
        raise InputError(f"reference: no column {column!r}, named in the model's columns.{named[column]}")


def _inferred_contract(reference: DatasetProfile, mapping: ColumnMapping) -> str:
    """The input/output contract learned from the reference (editable: GET/PUT …/contract)."""
    from mlwarden.quality import Contract

    scores = [s for s in mapping.score_columns if s in reference.columns]
    prediction = mapping.prediction if mapping.prediction in reference.columns else None
    return Contract.infer(reference, prediction=prediction, scores=scores).to_yaml()


def _labelled_sample(data: pd.DataFrame, mapping: ColumnMapping) -> bytes | None:
    """Up to LABELLED_ROWS rows with a label, as Parquet: what performance estimation is fitted on."""
    target = mapping.target
    if target not in data.columns:
        return None
    rows = data[data[target].notna()]
    if rows.empty:
        return None
    if len(rows) > LABELLED_ROWS:
        rows = rows.sample(LABELLED_ROWS, random_state=0)
    named = (
        target,
        *mapping.outputs,
        *segment_columns(mapping.segments),
    )  # segments: performance per segment
    keep = [c for c in dict.fromkeys(named) if c in rows.columns]
    buffer = io.BytesIO()
    rows[keep].reset_index(drop=True).to_parquet(buffer)
    return buffer.getvalue()


def _count(labelled: bytes | None) -> int:
    if labelled is None:
        return 0
    import pyarrow.parquet as pq

    return pq.ParquetFile(io.BytesIO(labelled)).metadata.num_rows
