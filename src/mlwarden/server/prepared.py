"""The reference side of the service, prepared once per process and shared by ingestion and window evaluation.

Decoding a reference's profile (up to a few MB), reading its labelled sample (Parquet, up to 50,000 rows)
and fitting the performance estimator on it (CBPE's isotonic calibration chosen out of fold, or DLE's loss
model) — for the whole data and, with ``columns.segments``, for every segment — depend only on the
reference and the model's column mapping, yet cost ~150 ms of a 5,000-row window's evaluation when done per
window (issue 15). A stored reference never changes — a new upload is a new row — so what is prepared is
kept in one bounded least-recently-used cache per process (:data:`PREPARED_ITEMS` entries whatever the
number of models; the oldest go first), keyed by the store's URL, the reference's id and creation time (a
database emptied and filled again reuses ids) and, for the fits, the mappings they were prepared for. It
is the only copy of a decoded reference in the process: batches are profiled on it too
(:meth:`mlwarden.server.deps.Services.current_reference`). The offline :class:`mlwarden.Monitor` reuses
its whole-data fit the same way.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from mlwarden.errors import InputError
from mlwarden.performance import ReferenceFit, fit_reference
from mlwarden.profile import DatasetProfile
from mlwarden.schema import ColumnMapping
from mlwarden.segments import fit_segments
from mlwarden.server.cache import TTLCache
from mlwarden.server.labels import typed_frame
from mlwarden.store import Store
from mlwarden.store.schema import Reference

log = logging.getLogger("mlwarden.server")
# reference profiles and fits kept (a profile: up to a few MB; a fit: ≤ 50,000 rows, and as many again per
# segment split): a model's batches and windows hold two entries, so 64 keep 32 models' references decoded
# — the batch route alone kept 64 profiles besides these before it shared them
PREPARED_ITEMS = 64
prepared = TTLCache(float("inf"), PREPARED_ITEMS)  # shared by every evaluator thread of the process


class CorruptBlob(Exception):
    """A stored profile (a window's partial, the reference, a training profile) that cannot be read back."""


def decoded(blob: bytes, what: str) -> DatasetProfile:
    """The profile stored as ``blob``; raises :class:`CorruptBlob` naming ``what`` when unreadable."""
    try:
        return DatasetProfile.from_bytes(blob)
    except InputError as exc:
        raise CorruptBlob(f"{what} is unreadable ({exc})") from None


@dataclass(frozen=True)
class ReferenceKey:
    """Which stored reference: its store (URL), id and creation time; the blobs are read only when the
    reference is not prepared yet."""

    url: str
    id: int
    created_at: datetime


@dataclass(frozen=True)
class PreparedFit:
    """A reference's labelled rows typed for a mapping (``None`` without a labelled sample), the
    performance estimator fitted on them once (:class:`~mlwarden.performance.ReferenceFit`) and, for a
    mapping with segments, one per segment the reference has (segment name → fit,
    :func:`~mlwarden.segments.fit_segments`; empty without segments)."""

    rows: pd.DataFrame | None
    fit: ReferenceFit
    segments: dict[str, ReferenceFit]


def latest_reference_key(store: Store, session: Session, model_id: int) -> ReferenceKey | None:
    """The model's newest reference (``None`` before the first upload): one small query, no blob read."""
    row = session.execute(
        select(Reference.id, Reference.created_at)
        .where(Reference.model_id == model_id)
        .order_by(Reference.id.desc())
        .limit(1)
    ).first()
    return None if row is None else ReferenceKey(store.url, row.id, row.created_at)


def reference_profile(store: Store, key: ReferenceKey) -> DatasetProfile:
    """The reference's decoded profile (cached; raises :class:`CorruptBlob` when unreadable — that too is
    kept, and logged once: a stored reference never changes, so its blob is not read again per batch).
    Callers must not modify it: every batch and window of the model shares it."""

    def load() -> DatasetProfile | CorruptBlob:
        with store.session() as session:
            blob = session.scalar(select(Reference.profile).where(Reference.id == key.id))
        try:
            return decoded(blob, f"reference {key.id} (upload it again)")
        except CorruptBlob as exc:
            log.error("stored reference is corrupt", extra={"reference_id": key.id, "error": str(exc)})
            return exc

    found = prepared.get(("profile", key), load)
    if isinstance(found, CorruptBlob):
        raise CorruptBlob(*found.args)  # a new exception each time: raising the kept one grows its traceback
    return found


def prepared_fit(
    store: Store,
    key: ReferenceKey,
    profile: DatasetProfile,
    mapping: ColumnMapping,
    fit_mapping: ColumnMapping,
) -> PreparedFit:
    """The reference's labelled rows, their target and prediction typed by ``mapping``
    (:func:`~mlwarden.server.labels.typed_frame`), and the estimators fitted for ``fit_mapping`` (the
    window's mapping) on the whole data and on each segment of its ``segments`` (split as the reference's
    ``profile``, :func:`reference_profile`, holds them), computed once per reference and pair of mappings
    (cached: one entry, so that a model's many segments cannot push other models' fits out of the cache).
    Raises :class:`InputError` when the mapping contradicts the reference or one of its segments (as
    :func:`fit_reference`); such a result is not cached."""

    def load() -> PreparedFit:
        with store.session() as session:
            blob = session.scalar(select(Reference.labelled).where(Reference.id == key.id))
        rows = typed_frame(pd.read_parquet(io.BytesIO(blob)), mapping) if blob else None
        fit = fit_reference(rows, fit_mapping)
        segments = fit_segments(profile, rows, fit_mapping)
        for each in (fit, *segments.values()):
            each.estimator()  # fitted now, once: every window then only estimates
        return PreparedFit(rows, fit, segments)

    return prepared.get(("fit", key, repr(mapping), repr(fit_mapping)), load)
