"""The report of one window against the model's reference: what ``mlwarden check`` would show for it.

The drift verdicts and distributions are recomputed from the stored profiles (the window's partial profiles
merged, as its evaluation did; per-column tests only — the multivariate check needs the evaluation's row
samples and is reported by its stored finding); the findings and the performance are the evaluation's own,
as stored, so the page says exactly what the alerts were raised on.

An evaluated window shows the partial profiles its evaluation saw (ids up to ``evaluated_upto``): late
batches appear once they are evaluated, with the findings they raise. A window not evaluated yet shows every
partial profile stored so far.

Merging a window's partial profiles is the page's cost: a window fed by many small batches holds hundreds
of them (bench/load.py: 300–900 blobs of ~150 KB per one-minute window), read and decoded in ~0.8 s on
PostgreSQL when idle and several seconds under ingestion. The comparison with the reference and its
rendered plots depend only on those immutable profiles (append-only: never updated or deleted), the
reference and the model's column mapping, so they are computed once per window and kept in a bounded
least-recently-used cache per process (:data:`COMPARED_ITEMS` windows); a request reads ids, findings and
the window's summary only. The merge itself is the one the window's evaluation made when it ran in this
process (:data:`mlwarden.server.windows.merged_profiles`), else read from the store once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlwarden.comparison import evaluate
from mlwarden.drift import DriftConfig
from mlwarden.errors import InputError
from mlwarden.findings import Finding, sort_findings
from mlwarden.profile import DatasetProfile, merge
from mlwarden.registry import model_mapping
from mlwarden.report import Report
from mlwarden.report.html import drift_sections, report_context
from mlwarden.server.cache import TTLCache
from mlwarden.server.dashboard.queries import window_findings
from mlwarden.server.prepared import CorruptBlob, ReferenceKey, latest_reference_key, reference_profile
from mlwarden.server.windows import merged_key, merged_profiles, window_mapping
from mlwarden.store import Store
from mlwarden.store.schema import Model, PartialProfile, Window

COMPARED_ITEMS = 64  # windows' comparisons kept per process (~0.35 MB each with its merged profile)
compared = TTLCache(float("inf"), COMPARED_ITEMS)  # shared by every request thread of the process


@dataclass(frozen=True, slots=True)
class Compared:
    """A window's comparison with the reference, findings and performance left empty (the request's own
    are read from the store), and its drift sections with their plots rendered
    (:func:`~mlwarden.report.html.drift_sections`). Shared by requests: never modified."""

    report: Report
    sections: list[tuple[str, list[dict[str, Any]]]]


def window_context(store: Store, session: Session, model: Model, window: Window) -> dict[str, Any]:
    """What ``_report_body.html.j2`` renders for the window (:func:`~mlwarden.report.html.report_context`),
    or ``{}`` when it has no data or the model no reference. Raises :class:`InputError` when a stored profile
    is unreadable."""
    reference = latest_reference_key(store, session, model.id)
    ids = _partial_ids(session, model, window)
    if reference is None or not ids:
        return {}
    merged = merged_key(reference, model.id, window.start, ids)
    key = (*merged, repr(model_mapping(model)))
    done = compared.get(key, lambda: _compare(store, session, model, window, reference, ids))
    summary = window.summary or {}
    report = replace(
        done.report,
        findings=sort_findings(_finding(row) for row in window_findings(session, model, window)),
        performance=summary.get("performance") or {"estimated": {}, "realized": {}},
        created_at=window.evaluated_at or datetime.now(UTC),
    )
    return report_context(report, done.sections)


def _partial_ids(session: Session, model: Model, window: Window) -> list[int]:
    """Ids of the partial profiles the page shows, ascending: those the evaluation saw, else every one."""
    query = select(PartialProfile.id).where(
        PartialProfile.model_id == model.id, PartialProfile.window_start == window.start
    )
    if window.evaluated_at is not None:
        query = query.where(PartialProfile.id <= window.evaluated_upto)
    return list(session.scalars(query.order_by(PartialProfile.id)))


def _compare(
    store: Store, session: Session, model: Model, window: Window, reference: ReferenceKey, ids: list[int]
) -> Compared:
    """Compare the merge of the window's partial profiles ``ids`` with the reference."""
    key = merged_key(reference, model.id, window.start, ids)
    # the merge its evaluation made in this process, else (one query)
    current = merged_profiles.get(key, lambda: _merged(session, model, window, ids))
    try:
        shared = reference_profile(store, reference)  # decoded once per process, shared with evaluations
    except CorruptBlob as exc:
        raise InputError(str(exc)) from None
    # copies: the merged profile and the reference are the evaluations' too
    ref_profile = replace(shared, source="reference")
    current = replace(current, source=f"window {window.start:%Y-%m-%d %H:%M} UTC")
    mapping = window_mapping(model_mapping(model), current)
    report = evaluate(ref_profile, current, mapping=mapping, drift_config=DriftConfig(multivariate=False))
    report.findings = []
    return Compared(report, drift_sections(report))


def _merged(session: Session, model: Model, window: Window, ids: list[int]) -> DatasetProfile:
    """The merge of the window's partial profiles ``ids`` (ascending), read in one query."""
    wanted = set(ids)
    blobs = session.execute(
        select(PartialProfile.id, PartialProfile.profile)
        .where(
            PartialProfile.model_id == model.id,
            PartialProfile.window_start == window.start,
            PartialProfile.id <= ids[-1],
        )
        .order_by(PartialProfile.id)
    ).all()
    return merge(DatasetProfile.from_bytes(blob) for pid, blob in blobs if pid in wanted)


def _finding(row) -> Finding:
    # hook (branch segments): pass segment=row.segment once stored findings carry their segment
    try:
        return Finding(
            check=row.check,
            severity=row.severity,
            message=row.message,
            column=row.column,
            value=row.value,
            threshold=row.threshold,
            evidence=row.evidence or {},
        )
    except ValueError as exc:  # a severity this build does not know
        raise InputError(f"stored finding {row.id}: {exc}") from None
