"""``GET /v1/alerts`` (the team's alerts, by status) and ``POST /v1/alerts/{alert_id}/ack``."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query

from mlwarden.alerts import state
from mlwarden.server.deps import Caller, RowId, Svc
from mlwarden.store.schema import Model

router = APIRouter(tags=["alerts"])


@router.get("/v1/alerts")
def get_alerts(
    caller: Caller,
    svc: Svc,
    status: str = Query(
        default="open", description="open (pending or firing), " + ", ".join(state.STATUSES[1:])
    ),
) -> list[dict[str, Any]]:
    with svc.store.session() as session:
        return state.listed(session, caller, status, datetime.now(UTC))


@router.post("/v1/alerts/{alert_id}/ack")
def acknowledge(alert_id: RowId, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Acknowledge a pending or firing alert (admin scope; audited): someone is on it."""
    with svc.store.session() as session:
        alert = state.acknowledge(session, caller, alert_id, datetime.now(UTC))
        return state.alert_dict(alert, session.get(Model, alert.model_id).name)
