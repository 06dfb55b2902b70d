"""``GET /v1/models/{name}/findings``: what the window checks found, newest first."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from mlwarden.errors import InputError
from mlwarden.server.deps import Caller, Svc
from mlwarden.server.segments import SEGMENT_HELP, check_segment
from mlwarden.store.schema import StoredFinding

router = APIRouter(tags=["findings"])
SEVERITIES = ("info", "warning", "critical")


@router.get("/v1/models/{name}/findings")
def get_findings(
    name: str,
    caller: Caller,
    svc: Svc,
    since: datetime | None = None,
    until: datetime | None = None,
    check: str | None = Query(
        default=None, description="exact check, or a prefix ending in '.' (literally: no wildcards)"
    ),
    severity: str | None = Query(default=None, description="minimum severity"),
    limit: int = Query(default=500, ge=1, le=10_000),
    segment: str | None = Query(default=None, description=SEGMENT_HELP),
) -> list[dict[str, Any]]:
    model = svc.model_row(caller, name, "read")
    query = select(StoredFinding).where(StoredFinding.model_id == model.id)
    if segment is not None:
        check_segment(segment, model.columns)
        query = query.where(StoredFinding.segment == segment)
    if since is not None:
        query = query.where(StoredFinding.window_start >= since)
    if until is not None:
        query = query.where(StoredFinding.window_start < until)
    if check is not None:
        query = query.where(
            StoredFinding.check.startswith(check, autoescape=True)
            if check.endswith(".")
            else StoredFinding.check == check
        )
    if severity is not None:
        if severity not in SEVERITIES:
            raise InputError(f"severity: expected one of {', '.join(SEVERITIES)}, got {severity!r}")
        query = query.where(StoredFinding.severity.in_(SEVERITIES[SEVERITIES.index(severity) :]))
    query = query.order_by(StoredFinding.window_start.desc(), StoredFinding.id).limit(limit)
    with svc.store.session() as session:
        return [finding_dict(f, model.name) for f in session.scalars(query)]


def finding_dict(row: StoredFinding, model: str) -> dict[str, Any]:
    """A stored finding as the API answers it."""
    return {
        "check": row.check,
        "severity": row.severity,
        "model": model,
        "column": row.column,
        "value": row.value,
        "threshold": row.threshold,
        "message": row.message,
        "window_start": row.window_start.isoformat() if row.window_start else None,
        "window_end": row.window_end.isoformat() if row.window_end else None,
        "evidence": row.evidence,
        "created_at": row.created_at.isoformat(),
        "segment": row.segment,
    }
