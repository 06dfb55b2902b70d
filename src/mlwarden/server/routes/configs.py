"""A model's configuration file (DESIGN §5): ``PUT/GET /v1/models/{name}/config`` and its history."""

from typing import Any

from fastapi import APIRouter, Query, Request

from mlwarden.registry.configs import MAX_CONFIG, apply_config, config_version, history, version_dict
from mlwarden.server.deps import Caller, Svc
from mlwarden.server.uploads import read_body

router = APIRouter(tags=["config"])


@router.put("/v1/models/{name}/config")
async def put_config(name: str, request: Request, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Apply a configuration file (YAML body; admin scope): validated as a whole before anything changes
    (422 naming the path; the previous configuration stays in force), then the model's owner, runbook,
    window, columns and SLOs are updated from it and the text stored as the next version (audited).
    Answers ``{"model", "version", "changed"}``."""
    svc.model_row(caller, name, "admin")  # another team's model, or none: 404 before the body is read
    body, _ = await read_body(request, min(svc.max_body, MAX_CONFIG))
    result = apply_config(svc.registry, caller, name, body.decode("utf-8", errors="replace"))
    svc.forget_model(caller, name)
    return result


@router.get("/v1/models/{name}/config")
def get_config(
    name: str,
    caller: Caller,
    svc: Svc,
    version: int | None = Query(
        default=None, ge=1, le=2**31 - 1, description="default: the version in force"
    ),
) -> dict[str, Any]:
    """A version of the configuration as applied (``${ENV}`` references as written, never their values)."""
    model = svc.model_row(caller, name, "read")
    with svc.store.session() as session:
        return version_dict(config_version(session, model, version))


@router.get("/v1/models/{name}/config/history")
def get_config_history(name: str, caller: Caller, svc: Svc) -> list[dict[str, Any]]:
    """Every applied version: number, who applied it and when."""
    model = svc.model_row(caller, name, "read")
    with svc.store.session() as session:
        return history(session, model)
