"""Durable ingestion: profile a batch and store it with its prediction keys in one transaction.

A batch is split by the model's windows (on each record's timestamp); each part becomes a partial profile.
A repeated ``batch_id`` violates a unique constraint, so the whole transaction rolls back and the batch is
acknowledged as a duplicate: retries never count twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlwarden.findings import Finding, Severity
from mlwarden.profile import DatasetProfile, profile
from mlwarden.server.batches import Batch
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

BATCH_SAMPLE_SIZE = 500  # rows of each batch kept in its profile's reservoir (a window keeps as many)


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


def window_start(ts: pd.Series, seconds: int) -> pd.Series:
    """The start of the window each timestamp falls in (windows are aligned to the Unix epoch)."""
    return ts.dt.floor(f"{seconds}s")


def latest_reference(session: Session, model_id: int) -> Reference | None:
    return session.scalar(
        select(Reference).where(Reference.model_id == model_id).order_by(Reference.id.desc()).limit(1)
    )


def ingest_predictions(
    store: Store, model: Model, batch: Batch, reference: DatasetProfile | None
) -> IngestResult:
    """Profile ``batch`` per window and store profiles, prediction keys and outputs atomically."""
    roles = model.columns
    frame = batch.frame
    received = datetime.now(UTC)
    ts_col, id_col = roles["timestamp"], roles["id"]
    frame[ts_col] = frame[ts_col].fillna(pd.Timestamp(received))
    starts = window_start(frame[ts_col], model.window_seconds)
    profiled = frame.drop(columns=[id_col, ts_col])
    if reference is not None:
        profiled = _align_kinds(profiled, reference)
    parts = []
    for start, index in starts.groupby(starts, sort=True).groups.items():
        part = profile(
            profiled.loc[index], reference=reference, sample_size=BATCH_SAMPLE_SIZE, sketch=reference is None
        )
        parts.append((start.to_pydatetime(), part))
    predictions = _prediction_rows(model, frame, roles)
    try:
        with store.session() as session:
            row = BatchRow(
                model_id=model.id,
                kind="predictions",
                batch_id=batch.batch_id,
                rows=len(frame),
                fingerprint=batch.fingerprint,
                model_version=batch.model_version,
                received_at=received,
            )
            session.add(row)
            session.flush()  # a duplicate batch_id fails here
            width = timedelta(seconds=model.window_seconds)
            insert_ignore(
                session, Window, [{"model_id": model.id, "start": s, "end": s + width} for s, _ in parts]
            )
            session.execute(
                insert(PartialProfile),
                [
                    {
                        "model_id": model.id,
                        "batch_pk": row.id,
                        "window_start": s,
                        "rows": p.rows,
                        "profile": p.to_bytes(),
                    }
                    for s, p in parts
                ],
            )
            for record in predictions:
                record["batch_pk"] = row.id
            session.execute(insert(Prediction), predictions)
            finding = _fingerprint_finding(session, model, batch)
            if finding is not None:
                session.add(stored_finding(model.id, finding, window=None))
    except IntegrityError:
        return IngestResult(batch_id=batch.batch_id, rows=len(frame), duplicate=True)
    return IngestResult(
        batch_id=batch.batch_id, rows=len(frame), duplicate=False, windows=[s.isoformat() for s, _ in parts]
    )


def _align_kinds(frame: pd.DataFrame, reference: DatasetProfile) -> pd.DataFrame:
    """Coerce a column whose kind differs from the reference's: unparsable values become missing, which the
    missing-rate check then reports — a type change is seen, never a crash at merge time."""
    from mlwarden.profile.dataset import column_kind

    for name in frame.columns:
        ref = reference.columns.get(name)
        if ref is None or column_kind(frame[name], name) == ref.kind:
            continue
        if ref.kind in ("numeric", "boolean") and ref.is_numeric:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
        elif ref.kind == "datetime":
            frame[name] = pd.to_datetime(frame[name], errors="coerce", utc=True)
        else:
            frame[name] = frame[name].astype("string").astype(object)
    return frame


def _prediction_rows(model: Model, frame: pd.DataFrame, roles: dict) -> list[dict]:
    """Prediction keys and outputs, column-wise (no per-row Python beyond building the insert list)."""
    n = len(frame)
    columns: dict[str, list] = {
        "model_id": [model.id] * n,
        "prediction_id": frame[roles["id"]].tolist(),
        "ts": frame[roles["timestamp"]].dt.to_pydatetime().tolist(),
    }
    pred = roles["prediction"]
    columns["prediction"] = (
        frame[pred].astype("string").astype(object).where(frame[pred].notna(), None).tolist()
        if pred in frame
        else [None] * n
    )
    scores = [s for s in roles["score"] if s in frame]
    if len(scores) == 1:
        values = pd.to_numeric(frame[scores[0]], errors="coerce").to_numpy(float)
        columns["score"] = [None if np.isnan(v) else float(v) for v in values]
    else:
        columns["score"] = [None] * n
    if len(scores) > 1:
        columns["scores"] = frame[scores].astype(float).to_dict("records")
    else:
        columns["scores"] = [None] * n
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


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
    )


def ingest_labels(store: Store, model: Model, batch_id: str, labels: pd.DataFrame) -> IngestResult:
    """Store delayed labels (``id``, ``label``, optional ``timestamp``) for joining to predictions by id."""
    received = datetime.now(UTC)
    ts = labels["timestamp"].fillna(pd.Timestamp(received)) if "timestamp" in labels else None
    rows = [
        {"model_id": model.id, "prediction_id": i, "label": v, "ts": t}
        for i, v, t in zip(
            labels["id"].astype(str).tolist(),
            labels["label"].astype(str).tolist(),
            ts.dt.to_pydatetime().tolist() if ts is not None else [received] * len(labels),
            strict=True,
        )
    ]
    try:
        with store.session() as session:
            row = BatchRow(
                model_id=model.id, kind="labels", batch_id=batch_id, rows=len(rows), received_at=received
            )
            session.add(row)
            session.flush()
            for r in rows:
                r["batch_pk"] = row.id
            session.execute(insert(Label), rows)
    except IntegrityError:
        return IngestResult(batch_id=batch_id, rows=len(rows), duplicate=True)
    return IngestResult(batch_id=batch_id, rows=len(rows), duplicate=False)
