"""``GET /v1/audit``: the audit log (every change, by whom), for the operator."""

from fastapi import APIRouter, Query
from sqlalchemy import select

from mlwarden.errors import AccessDenied
from mlwarden.server.deps import Caller, Svc
from mlwarden.store.schema import AuditEntry

router = APIRouter(tags=["audit"])


@router.get("/v1/audit")
def get_audit(caller: Caller, svc: Svc, limit: int = Query(default=200, ge=1, le=10_000)) -> list[dict]:
    caller.require("admin")
    if caller.team_id is not None:
        raise AccessDenied("the audit log spans all teams: only the operator may read it")
    with svc.store.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
        return [
            {
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "entity": r.entity,
                "before": r.before,
                "after": r.after,
            }
            for r in rows
        ]
