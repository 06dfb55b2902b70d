"""``GET /v1/alerts``: the team's alerts."""

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from mlwarden.server.deps import Caller, Svc
from mlwarden.store.schema import Alert, Model

router = APIRouter(tags=["alerts"])


@router.get("/v1/alerts")
def get_alerts(
    caller: Caller, svc: Svc, status: str = Query(default="open", pattern="^(open|resolved|all)$")
) -> list[dict]:
    caller.require("read")
    query = select(Alert, Model.name).join(Model, Model.id == Alert.model_id)
    if caller.team_id is not None:
        query = query.where(Model.team_id == caller.team_id)
    if status != "all":
        query = query.where(Alert.status == status)
    with svc.store.session() as session:
        return [alert_dict(a, name) for a, name in session.execute(query.order_by(Alert.last_seen.desc()))]


def alert_dict(row: Alert, model: str) -> dict[str, Any]:
    """An alert as the API answers it."""
    return {
        "id": row.id,
        "model": model,
        "check": row.check,
        "column": row.column or None,
        "severity": row.severity,
        "status": row.status,
        "message": row.message,
        "occurrences": row.occurrences,
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "segment": row.segment or None,
    }
