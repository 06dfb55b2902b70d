"""Durable ingestion: profile a batch and store it with its prediction keys in one transaction.

A batch is split by the model's windows (on each record's timestamp); each part becomes a partial profile.

Idempotency: a batch is stored with the SHA-256 of its rows (:meth:`Batch.content_hash`). A repeated
``batch_id`` violates a unique constraint, so the whole transaction rolls back; the repeat is then
acknowledged as a duplicate when its rows hash as the stored batch's (a retry never counts twice), and
refused with :class:`~mlwarden.errors.ConflictError` (HTTP 409) when they do not — new rows under a used id
are never dropped without a word.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlwarden.errors import ConflictError, InputError
from mlwarden.findings import Finding, Severity
from mlwarden.profile import DatasetProfile, profile
from mlwarden.profile.segments import joined_values, segment_columns
from mlwarden.quality import Contract
from mlwarden.registry.columns import model_mapping
from mlwarden.schema import ColumnMapping
from mlwarden.server import limits, model_columns
from mlwarden.server.batches import STAMP, Batch, check_batch_id, parsed_times
from mlwarden.server.digest import content_hash
from mlwarden.store import Store
from mlwarden.store.schema import (
    Batch as BatchRow,
)
from mlwarden.store.schema import (
    Label,
    Model,
    ModelVersion,
    PartialProfile,
    Prediction,
    Reference,
    StoredFinding,
    Window,
)
from mlwarden.store.upsert import insert_ignore

BATCH_SAMPLE_ROWS = 500  # rows of each batch kept in its profile's row sample (a window keeps as many)
KNOWN_WINDOWS = 10_000  # (model, window) rows this process has seen committed, per store, before forgetting

# Built once: a statement object per request costs more to build and cache-key than to execute.
_INSERT_BATCH = insert(BatchRow.__table__).returning(BatchRow.__table__.c.id)
_INSERT_PARTIAL = insert(PartialProfile.__table__)

# Window rows are never deleted, so once this process has committed one it need not upsert it again.
_known_windows: weakref.WeakKeyDictionary[Store, set[tuple[int, datetime]]] = weakref.WeakKeyDictionary()


@dataclass(slots=True)
class IngestResult:
    batch_id: str
    rows: int
    duplicate: bool
    windows: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "rows": self.rows,
            "duplicate": self.duplicate,
            "windows": self.windows,
        }


def rows_per_window(stamps: pa.Array, seconds: int) -> list[tuple[datetime, np.ndarray | None]]:
    """Each window's start and the positions of its rows (``None``: all of them, the common case). Windows
    are ``seconds`` long and aligned to the Unix epoch."""
    width = seconds * 1_000_000
    window = stamps.cast(STAMP).cast(pa.int64()).to_numpy() // width  # microseconds, floored
    first, last = int(window.min()), int(window.max())

    def start(w: int) -> datetime:
        return datetime.fromtimestamp(w * seconds, UTC)

    if first == last:
        return [(start(first), None)]
    found, which = np.unique(window, return_inverse=True)
    return [(start(int(w)), np.flatnonzero(which == i)) for i, w in enumerate(found)]


def latest_reference(session: Session, model_id: int) -> Reference | None:
    ref_id = latest_reference_id_in(session, model_id)
    return session.get(Reference, ref_id) if ref_id is not None else None


def latest_reference_id_in(session: Session, model_id: int) -> int | None:
    return session.scalar(select(func.max(Reference.id)).where(Reference.model_id == model_id))


def ingest_predictions(
    store: Store, model: Model, batch: Batch, reference: DatasetProfile | None
) -> IngestResult:
    """Profile ``batch`` per window and store profiles, prediction keys and outputs atomically. The model's
    mapping decides what is profiled: ``ignore`` columns are not, ``categorical``/``numeric`` set kinds."""
    mapping = model_mapping(model)
    sent = batch.frame
    received = datetime.now(UTC)
    stamps = pc.fill_null(batch.timestamps, pa.scalar(received, STAMP))  # unstamped records: receive time
    predictions = _prediction_table(model, batch, stamps, mapping)
    limits.check_texts(predictions["prediction"].combine_chunks(), Prediction.prediction, mapping.prediction)
    digest = batch.content_hash()
    profiled = _align_kinds(sent, reference) if reference is not None else sent
    parts, violations = [], []
    for start, rows in rows_per_window(stamps, model.window_seconds):
        part = profile(
            profiled if rows is None else profiled.iloc[rows],
            mapping=mapping,
            reference=reference,
            sample_rows=BATCH_SAMPLE_ROWS,
            sketch=reference is None,
        )
        parts.append((start, part))
        # the contract judges the rows as sent, before any coercion, in the window they belong to
        rows_sent = sent if rows is None else sent.iloc[rows]
        violations.append((start, contract_findings(model, rows_sent, mapping)))
    profiles = [(s, p.rows, p.to_bytes()) for s, p in parts]
    columns = model_columns.new_columns(store, model, map(str, sent.columns))
    known = _known_windows.setdefault(store, set())
    new_windows = [s for s, _ in parts if (model.id, s) not in known]
    width = timedelta(seconds=model.window_seconds)
    try:
        # Core, not the ORM: this is the hot path (the ORM's unit of work costs ~1 ms a batch here)
        with store.engine.begin() as connection:
            model_columns.record(connection, model, columns)  # past the per-model limit: refused whole
            batch_pk = connection.execute(  # a duplicate batch_id fails here
                _INSERT_BATCH,
                {
                    "model_id": model.id,
                    "kind": "predictions",
                    "batch_id": batch.batch_id,
                    "rows": len(sent),
                    "fingerprint": batch.fingerprint,
                    "model_version": batch.model_version,
                    "content_hash": digest,
                    "received_at": received,
                },
            ).scalar_one()
            insert_ignore(
                connection,
                Window,
                [{"model_id": model.id, "start": s, "end": s + width} for s in new_windows],
            )
            # a share lock on the windows' rows before the profiles draw their ids: a window's claim waits
            # for this batch to commit, so its horizon never passes an id still uncommitted (windows.claim)
            connection.execute(
                select(Window.id)
                .where(Window.model_id == model.id, Window.start.in_([s for s, _ in parts]))
                .with_for_update(read=True)
            )
            connection.execute(
                _INSERT_PARTIAL,
                [
                    {
                        "model_id": model.id,
                        "batch_pk": batch_pk,
                        "window_start": s,
                        "rows": rows,
                        "profile": blob,
                    }
                    for s, rows, blob in profiles
                ],
            )
            batch_pks = pa.array(np.full(len(sent), batch_pk))
            insert_predictions(connection, predictions.add_column(1, "batch_pk", batch_pks))
            if batch.fingerprint is not None or any(found for _, found in violations):
                with Session(bind=connection) as session:  # joins the connection's transaction
                    fingerprint = [f for f in (_fingerprint_finding(session, model, batch),) if f is not None]
                    store_batch_findings(session, model, batch, fingerprint, parts[0][0], width)
                    for start, found in violations:
                        store_batch_findings(session, model, batch, found, start, width)
                    session.flush()
    except IntegrityError:
        if not _is_retry(store, model, "predictions", batch.batch_id, digest):
            raise
        return IngestResult(batch_id=batch.batch_id, rows=len(sent), duplicate=True)
    model_columns.remember(store, model, columns)
    if len(known) + len(new_windows) > KNOWN_WINDOWS:
        known.clear()
    known.update((model.id, s) for s in new_windows)
    return IngestResult(
        batch_id=batch.batch_id, rows=len(sent), duplicate=False, windows=[s.isoformat() for s, _ in parts]
    )


def _is_retry(store: Store, model: Model, kind: str, batch_id: str, digest: str) -> bool:
    """After an insert failed on a constraint: True when a batch of this id with the same rows is stored (a
    retry), False when none is (the failure was something else); ConflictError when its rows differ."""
    with store.session() as session:
        stored = session.execute(
            select(BatchRow.content_hash, BatchRow.rows).where(
                BatchRow.model_id == model.id, BatchRow.kind == kind, BatchRow.batch_id == batch_id
            )
        ).one_or_none()
    if stored is None:
        return False
    if stored.content_hash is not None and stored.content_hash != digest:  # None: stored before hashes
        raise ConflictError(
            f"batch_id {batch_id!r}: already stored with other content ({stored.rows:,} rows); a batch_id "
            "names one batch for good — a retry must send the same rows, new rows need a new batch_id"
        )
    return True


@lru_cache(maxsize=256)
def parsed_contract(text: str) -> Contract:
    return Contract.from_yaml_text(text)


def contract_findings(model: Model, frame: pd.DataFrame, mapping: ColumnMapping) -> list[Finding]:
    """Violations of the model's contract by this batch's rows (features and outputs; ids, times and the
    mapping's ``ignore`` columns aside)."""
    if not model.contract:
        return []
    ignored = [c for c in mapping.ignore if c in frame.columns]
    return parsed_contract(model.contract).validate(frame.drop(columns=ignored) if ignored else frame)


def _align_kinds(frame: pd.DataFrame, reference: DatasetProfile) -> pd.DataFrame:
    """Coerce a column whose kind differs from the reference's: unparsable values become missing, which the
    missing-rate check then reports — a type change is seen, never a crash at merge time."""
    from mlwarden.profile.dataset import column_kind

    changed: dict[str, pd.Series] = {}
    for name, dtype in frame.dtypes.items():
        ref = reference.columns.get(name)
        if ref is None or ref.kind == "empty" or (ref.kind == "numeric" and dtype.kind in "fiu"):
            continue  # the common case, decided from the dtype alone
        if column_kind(frame[name], name) == ref.kind:
            continue
        if ref.kind in ("numeric", "boolean") and ref.is_numeric:
            changed[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
        elif ref.kind == "datetime":
            changed[name] = pd.to_datetime(frame[name], errors="coerce", utc=True)
        else:
            changed[name] = frame[name].astype("string").astype(object)
    return frame.assign(**changed) if changed else frame


def _as_text(values: pd.Series) -> pd.Series:
    """Predicted labels as text, as labels are stored: integer labels that became floats because a value is
    missing are written ``"1"``, not ``"1.0"``, so they still join with their labels."""
    if pd.api.types.is_float_dtype(values.dtype):
        finite = values.dropna()
        exact = np.isfinite(finite).all() and (finite.abs() < 2**53).all()  # integers a float holds exactly
        if exact and (finite == np.round(finite)).all():
            return values.astype("Int64").astype("string")
    return values.astype("string")


def _prediction_table(model: Model, batch: Batch, stamps: pa.Array, mapping: ColumnMapping) -> pa.Table:
    """Prediction keys and outputs as columns of the ``predictions`` table, as Arrow arrays (``batch_pk``
    is added once the batch row exists). Several score columns are kept as a JSON object keyed by column;
    a model with segments keeps each row's segment values."""
    frame = batch.frame
    n = len(frame)
    pred = mapping.prediction
    prediction = pa.array(_as_text(frame[pred])) if pred in frame else pa.nulls(n, pa.string())
    scores = [s for s in mapping.score_columns if s in frame]
    score = np.full(n, np.nan)
    if len(scores) == 1:
        score = pd.to_numeric(frame[scores[0]], errors="coerce").to_numpy(float)
    if len(scores) > 1:
        matrix = frame[scores].astype(float).round(12)
        multi = pa.array(matrix.to_json(orient="records", lines=True).splitlines(), pa.string())
    else:
        multi = pa.nulls(n, pa.string())
    columns = {
        "model_id": pa.array(np.full(n, model.id)),
        "prediction_id": batch.ids,
        "ts": stamps,
        "prediction": prediction,
        "score": pa.array(score, from_pandas=True),  # NaN is NULL
        "scores": multi,
    }
    if mapping.segments:  # per-segment performance joins labels to these (docs/segments.md)
        joined = joined_values(frame, segment_columns(mapping.segments))
        columns["segment_values"] = pa.array(joined, pa.string())
    return pa.table(columns)


def insert_predictions(connection: Connection, table: pa.Table) -> None:
    """Bulk-insert prediction rows: PostgreSQL's COPY (one round trip, ~10× executemany), else executemany."""
    if connection.dialect.name != "postgresql":
        rows = table.to_pylist()
        for row in rows:
            row["scores"] = json.loads(row["scores"]) if row["scores"] else None
        connection.execute(insert(Prediction.__table__), rows)
        return
    # UTC timestamps as text with an explicit offset: Arrow's time-zone-aware formatting costs ~0.8 ms a batch
    utc = pc.cast(table["ts"].cast(pa.timestamp("us")), pa.string())
    stamps = pc.binary_join_element_wise(utc, "+00", "")
    table = table.set_column(table.column_names.index("ts"), "ts", stamps)
    sink = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    pa_csv.write_csv(table, sink, options)
    columns = ", ".join(table.column_names)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(
        f"COPY predictions ({columns}) FROM STDIN WITH (FORMAT csv, NULL '', FORCE_NULL (prediction, scores))"
    ) as copy:
        copy.write(sink.getvalue())


def _fingerprint_finding(session: Session, model: Model, batch: Batch) -> Finding | None:
    """Critical when the batch's features were computed by other code than its model version's."""
    if batch.fingerprint is None:
        return None
    query = select(ModelVersion).where(ModelVersion.model_id == model.id)
    if batch.model_version is not None:
        query = query.where(ModelVersion.version == batch.model_version)
    else:
        query = query.where(ModelVersion.stage == "champion")
    version = session.scalar(query.order_by(ModelVersion.id.desc()).limit(1))
    if version is None or version.feature_fingerprint in (None, batch.fingerprint):
        return None
    from mlwarden.features import fingerprint_finding

    return fingerprint_finding(version.feature_fingerprint, batch.fingerprint, model=model.name)


def store_batch_findings(
    session: Session, model: Model, batch: Batch, findings: list[Finding], start: datetime, width: timedelta
) -> None:
    """Findings made on a batch as it arrives (fingerprint, contract), filed under the batch's window.

    One finding per check and column per window: later batches with the same problem add nothing, so a
    busy stream does not bury the owner in copies. Window evaluation folds them into its alerts.
    """
    for finding in findings:
        seen = session.scalar(
            select(StoredFinding.id).where(
                StoredFinding.model_id == model.id,
                StoredFinding.window_id.is_(None),
                StoredFinding.window_start == start,
                StoredFinding.check == finding.check,
                StoredFinding.column.is_(None)
                if finding.column is None
                else StoredFinding.column == finding.column,
            )
        )
        if seen is None:
            evidence = {**finding.evidence, "batch_id": batch.batch_id, "model_version": batch.model_version}
            dated = replace(finding, window_start=start, window_end=start + width, evidence=evidence)
            session.add(stored_finding(model.id, dated, window=None))


def stored_finding(model_id: int, finding: Finding, *, window: Window | None) -> StoredFinding:
    return StoredFinding(
        model_id=model_id,
        window_id=window.id if window is not None else None,
        window_start=finding.window_start or (window.start if window else None),
        window_end=finding.window_end or (window.end if window else None),
        check=finding.check,
        severity=Severity(finding.severity).value,
        column=finding.column,
        value=finding.to_dict()["value"],
        threshold=finding.to_dict()["threshold"],
        message=finding.message,
        evidence=finding.to_dict()["evidence"],
        segment=finding.segment,
    )


def ingest_labels(store: Store, model: Model, batch_id: str, labels: pd.DataFrame) -> IngestResult:
    """Store delayed labels (``id``, ``label``, optional ``timestamp``) for joining to predictions by id.

    Labels are stored as text. A missing or non-finite label (null, NaN, ±inf) refuses the batch with
    InputError naming its row, as does an id, label or time the store cannot hold (:mod:`limits`).
    Idempotent as prediction batches are: a repeat with the same rows is a duplicate, with other rows a
    ConflictError (409).
    """
    batch_id = check_batch_id(batch_id)
    received = datetime.now(UTC)
    values = labels["label"]
    missing = values.isna() | values.isin([np.inf, -np.inf])
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy(bool))[0])
        expected = "a label (text, a finite number or a boolean)"
        raise InputError(f"labels[{row}].label: expected {expected}, got {values.iloc[row]}")
    ids = pa.array(labels["id"].astype(str), pa.string())
    texts = pa.array(values.astype(str), pa.string())
    limits.check_texts(ids, Label.prediction_id, "labels[].id")
    limits.check_texts(texts, Label.label, "labels[].label")
    sent = pa.nulls(len(labels), STAMP)
    if "timestamp" in labels:
        sent = parsed_times(labels["timestamp"], "labels[].timestamp")
        limits.check_times(sent, "labels[].timestamp")
    digest = content_hash(pd.DataFrame(), {"id": ids, "label": texts, "timestamp": sent})
    stamps = pc.fill_null(sent, pa.scalar(received, STAMP)).to_pylist()  # unstamped labels: receive time
    rows = [
        {"model_id": model.id, "prediction_id": i, "label": v, "ts": t}
        for i, v, t in zip(ids.to_pylist(), texts.to_pylist(), stamps, strict=True)
    ]
    try:
        with store.session() as session:
            row = BatchRow(
                model_id=model.id,
                kind="labels",
                batch_id=batch_id,
                rows=len(rows),
                content_hash=digest,
                received_at=received,
            )
            session.add(row)
            session.flush()
            for r in rows:
                r["batch_pk"] = row.id
            session.execute(insert(Label), rows)
            _flag_labelled_windows(session, model, pc.unique(ids).to_pylist())
    except IntegrityError:
        if not _is_retry(store, model, "labels", batch_id, digest):
            raise
        return IngestResult(batch_id=batch_id, rows=len(rows), duplicate=True)
    return IngestResult(batch_id=batch_id, rows=len(rows), duplicate=False)


def _flag_labelled_windows(session: Session, model: Model, ids: list[str]) -> None:
    """Mark the windows holding these predictions for re-evaluation: their realized performance changed."""
    starts: set[datetime] = set()
    for chunk in range(0, len(ids), 5_000):
        stamps = session.scalars(
            select(Prediction.ts).where(
                Prediction.model_id == model.id, Prediction.prediction_id.in_(ids[chunk : chunk + 5_000])
            )
        ).all()
        if stamps:
            found = rows_per_window(pa.array(stamps, STAMP), model.window_seconds)
            starts.update(start for start, _ in found)
    if starts:
        session.execute(
            update(Window)
            .where(Window.model_id == model.id, Window.start.in_(sorted(starts)))
            .values(labels_arrived=True)
        )
