"""A model's windows: their status and summary, the merged profile of any time range, and evaluating due
windows now."""

from datetime import datetime

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from mlwarden.errors import NotFoundError
from mlwarden.profile import DatasetProfile, merge
from mlwarden.server.deps import Caller, Svc
from mlwarden.server.segments import SEGMENT_HELP, check_segment, segment_profile, window_for_segment
from mlwarden.server.windows import evaluate_due
from mlwarden.store.schema import PartialProfile, Window

router = APIRouter(tags=["windows"])


@router.get("/v1/models/{name}/windows")
def get_windows(
    name: str,
    caller: Caller,
    svc: Svc,
    limit: int = Query(default=100, ge=1, le=10_000),
    segment: str | None = Query(default=None, description=SEGMENT_HELP + "; narrows each summary to it"),
) -> list[dict]:
    model = svc.model_row(caller, name, "read")
    if segment is not None:
        check_segment(segment, model.columns)
    with svc.store.session() as session:
        rows = session.scalars(
            select(Window).where(Window.model_id == model.id).order_by(Window.start.desc()).limit(limit)
        )
        windows = [
            {
                "start": w.start.isoformat(),
                "end": w.end.isoformat(),
                "status": w.status,
                "evaluated_at": w.evaluated_at.isoformat() if w.evaluated_at else None,
                "summary": w.summary,
            }
            for w in rows
        ]
    return windows if segment is None else [window_for_segment(w, segment) for w in windows]


@router.get(
    "/v1/models/{name}/profile",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_profile(
    name: str,
    caller: Caller,
    svc: Svc,
    since: datetime | None = None,
    until: datetime | None = None,
    segment: str | None = Query(default=None, description=SEGMENT_HELP + "; that segment's profile"),
) -> Response:
    """The merged profile of every batch in ``[since, until)`` (a day, a week: any roll-up of windows), in
    the binary profile format — save it and run ``mlwarden check reference.mlwprof it.mlwprof``. With
    ``segment``, the partial profile of that segment only (404 when the range holds none of it)."""
    model = svc.model_row(caller, name, "read")
    if segment is not None:
        check_segment(segment, model.columns)
    query = select(PartialProfile.profile).where(PartialProfile.model_id == model.id)
    if since is not None:
        query = query.where(PartialProfile.window_start >= since)
    if until is not None:
        query = query.where(PartialProfile.window_start < until)
    with svc.store.session() as session:
        blobs = session.scalars(query.order_by(PartialProfile.id)).all()
    if not blobs:
        raise NotFoundError(f"model {name!r} has no ingested data in that time range")
    merged = merge(DatasetProfile.from_bytes(blob) for blob in blobs)
    if segment is not None:
        merged = segment_profile(merged, segment)
    return Response(merged.to_bytes(), media_type="application/octet-stream")


@router.post("/v1/evaluate")
def evaluate_now(caller: Caller, svc: Svc) -> dict[str, int]:
    """Evaluate every due window of the caller's team now (the scheduler does this on its own every few
    seconds, for every team)."""
    caller.require("admin")
    return {"evaluated": evaluate_due(svc.store, team_id=caller.team_id)}
