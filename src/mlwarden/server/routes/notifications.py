"""``GET /v1/models/{name}/notifications``: what the outbox holds for a model, with every attempt."""

from typing import Any

from fastapi import APIRouter, Query

from mlwarden.alerts import outbox
from mlwarden.server.deps import Caller, Svc

router = APIRouter(tags=["alerts"])


@router.get("/v1/models/{name}/notifications")
def get_notifications(
    name: str,
    caller: Caller,
    svc: Svc,
    status: str | None = Query(default=None, description="pending, delivered or dead"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """The model's notifications, newest first: receiver, status (pending, delivered, dead) and each
    delivery attempt (status, error, duration)."""
    model = svc.model_row(caller, name, "read")
    with svc.store.session() as session:
        return outbox.listed(session, model.id, status, limit)
