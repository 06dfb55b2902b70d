"""Registering a reference: a saved profile, or data (profiled here, keeping a labelled output sample)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from mlwarden.errors import InputError
from mlwarden.profile import DatasetProfile, profile
from mlwarden.profile.serialize import MAGIC
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
            return pd.read_csv(io.BytesIO(body), low_memory=False)
    except Exception as exc:  # pyarrow/pandas raise many types; all mean "unreadable body"
        raise InputError(f"body: cannot read as {content_type}: {exc}") from None
    raise InputError(
        f"Content-Type {content_type!r} not supported for a reference: send a profile "
        "(application/octet-stream), Parquet, Arrow IPC or text/csv"
    )


def store_reference(store: Store, model: Model, data: DatasetProfile | pd.DataFrame) -> dict[str, Any]:
    """Profile (if needed) and store the reference; id, timestamp and target are not profiled."""
    roles = model.columns
    skip = [roles["id"], roles["timestamp"], roles["target"]]
    labelled = None
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise InputError("reference: the table has no rows")
        labelled = _labelled_sample(data, roles)
        data = profile(
            data.drop(columns=[c for c in skip if c in data.columns]), source=f"reference of {model.name}"
        )
    else:
        for column in skip:
            data.columns.pop(column, None)
    with store.session() as session:
        row = Reference(model_id=model.id, rows=data.rows, profile=data.to_bytes(), labelled=labelled)
        session.add(row)
        stored = session.get(Model, model.id)
        contract = "kept"
        if stored.contract is None:
            stored.contract, contract = _inferred_contract(data, roles), "inferred"
    return {
        "rows": data.rows,
        "columns": list(data.columns),
        "labelled_rows": _count(labelled),
        "contract": contract,
    }


def _inferred_contract(reference: DatasetProfile, roles: dict[str, Any]) -> str:
    """The input/output contract learned from the reference (editable: GET/PUT …/contract)."""
    from mlwarden.quality import Contract

    scores = [s for s in roles["score"] if s in reference.columns]
    prediction = roles["prediction"] if roles["prediction"] in reference.columns else None
    return Contract.infer(reference, prediction=prediction, scores=scores).to_yaml()


def _labelled_sample(data: pd.DataFrame, roles: dict[str, Any]) -> bytes | None:
    """Up to LABELLED_ROWS rows with a label, as Parquet: what performance estimation is fitted on."""
    target = roles["target"]
    if target not in data.columns:
        return None
    rows = data[data[target].notna()]
    if rows.empty:
        return None
    if len(rows) > LABELLED_ROWS:
        rows = rows.sample(LABELLED_ROWS, random_state=0)
    keep = [c for c in (target, roles["prediction"], *roles["score"]) if c in rows.columns]
    buffer = io.BytesIO()
    rows[keep].reset_index(drop=True).to_parquet(buffer)
    return buffer.getvalue()


def _count(labelled: bytes | None) -> int:
    if labelled is None:
        return 0
    import pyarrow.parquet as pq

    return pq.ParquetFile(io.BytesIO(labelled)).metadata.num_rows
