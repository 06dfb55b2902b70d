"""``GET /v1/owners/audit``: every model of the caller's team (every team's for the operator) by ownership
health, least healthy first."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from mlwarden.alerts.owners import audit_rows, ownership
from mlwarden.server.deps import Caller, Svc

router = APIRouter(tags=["owners"])


@router.get("/v1/owners/audit")
def owners_audit(caller: Caller, svc: Svc) -> list[dict[str, Any]]:
    """One row per model: ``model``, ``team``, ``owner``, ``owner_email``, ``owner_reachable``,
    ``reachable_receivers``, ``last_batch``, ``last_label``, ``last_evaluation`` (ISO 8601 or null),
    ``problems`` (hygiene checks: ``ownership.no_owner``, ``traffic.none`` …) and ``messages``."""
    caller.require("read")
    now = datetime.now(UTC)
    with svc.store.session() as session:
        return audit_rows(ownership(session, team_id=caller.team_id, now=now), now)
