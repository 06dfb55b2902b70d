"""``GET /healthz``: the store answers."""

from fastapi import APIRouter
from sqlalchemy import text

from mlwarden.server.deps import Svc

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(svc: Svc) -> dict[str, str]:
    with svc.store.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ok", "store": svc.store.backend}
