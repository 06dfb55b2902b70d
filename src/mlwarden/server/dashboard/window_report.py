"""The report of one window against the model's reference: what ``mlwarden check`` would show for it.

The drift verdicts and distributions are recomputed from the stored profiles (the window's partial profiles
merged, as its evaluation did; per-column tests only — the multivariate check needs the evaluation's row
samples and is reported by its stored finding); the findings and the performance are the evaluation's own,
as stored, so the page says exactly what the alerts were raised on.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlwarden.comparison import evaluate
from mlwarden.drift import DriftConfig
from mlwarden.errors import InputError
from mlwarden.findings import Finding, sort_findings
from mlwarden.profile import DatasetProfile, merge
from mlwarden.registry import model_mapping
from mlwarden.report import Report
from mlwarden.server.dashboard.queries import window_findings
from mlwarden.server.ingest import latest_reference
from mlwarden.server.windows import window_mapping
from mlwarden.store.schema import Model, PartialProfile, Window


def window_report(session: Session, model: Model, window: Window) -> Report | None:
    """The window's report, or ``None`` when it has no data or the model no reference. Raises
    :class:`InputError` when a stored profile is unreadable."""
    reference = latest_reference(session, model.id)
    blobs = session.scalars(
        select(PartialProfile.profile)
        .where(PartialProfile.model_id == model.id, PartialProfile.window_start == window.start)
        .order_by(PartialProfile.id)
    ).all()
    if reference is None or not blobs:
        return None
    ref_profile = DatasetProfile.from_bytes(reference.profile)
    current = merge(DatasetProfile.from_bytes(blob) for blob in blobs)
    ref_profile.source, current.source = "reference", f"window {window.start:%Y-%m-%d %H:%M} UTC"
    mapping = window_mapping(model_mapping(model), current)
    report = evaluate(ref_profile, current, mapping=mapping, drift_config=DriftConfig(multivariate=False))
    report.findings = sort_findings(_finding(row) for row in window_findings(session, model, window))
    summary = window.summary or {}
    report.performance = summary.get("performance") or {"estimated": {}, "realized": {}}
    if window.evaluated_at is not None:
        report.created_at = window.evaluated_at
    return report


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
