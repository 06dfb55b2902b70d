"""The registry's models: ``/v1/models`` and ``/v1/models/{name}`` (register, list, read, update) and the
model's input/output contract."""

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from mlwarden.errors import NotFoundError
from mlwarden.registry import ModelSpec
from mlwarden.registry.registry import GRACE_SECONDS, WINDOW_SECONDS
from mlwarden.schema.alerting import EMAIL_PATTERN
from mlwarden.server.deps import Caller, Svc
from mlwarden.server.uploads import read_body

router = APIRouter(tags=["models"])
MAX_CONTRACT = 1024 * 1024  # a contract's YAML (parsed contracts are cached: their size is bounded too)
WINDOW_FIELD = Field(ge=WINDOW_SECONDS[0], le=WINDOW_SECONDS[1], description="window length in seconds")
GRACE_FIELD = Field(ge=GRACE_SECONDS[0], le=GRACE_SECONDS[1], description="seconds to wait for late data")


class ModelIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^/]+$")
    team: str | None = Field(default=None, description="defaults to the token's team")
    description: str = ""
    owner_name: str | None = None
    owner_email: str | None = Field(default=None, max_length=200, pattern=EMAIL_PATTERN)
    oncall: str | None = None
    runbook_url: str | None = None
    slos: dict[str, float] = Field(default_factory=dict)
    segment_slos: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="per-segment SLO limits: {segment: {metric: limit}}, a segment of columns.segments "
        "('country=FR') or '*' for every segment; each limit in its metric's direction, as slos",
    )
    columns: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "the model's column mapping: target, prediction, scores (a column, or {class: column} in the "
            "model's class order), positive_label, task, id, timestamp, ignore, categorical, numeric, "
            "segments, drift; roles left out default to id, timestamp, prediction, score and label"
        ),
    )
    window_seconds: Annotated[int, WINDOW_FIELD] = 3600
    grace_seconds: Annotated[int, GRACE_FIELD] = 60


class ModelUpdate(BaseModel):
    owner_name: str | None = None
    owner_email: str | None = Field(default=None, max_length=200, pattern=EMAIL_PATTERN)
    oncall: str | None = None
    runbook_url: str | None = None
    description: str | None = None
    slos: dict[str, float] | None = None
    segment_slos: dict[str, dict[str, float]] | None = None
    columns: dict[str, Any] | None = Field(
        default=None, description="a new column mapping, replacing the old one (as in registration)"
    )
    window_seconds: Annotated[int, WINDOW_FIELD] | None = None
    grace_seconds: Annotated[int, GRACE_FIELD] | None = None


@router.post("/v1/models", status_code=201)
def create_model(body: ModelIn, caller: Caller, svc: Svc) -> dict[str, Any]:
    team = body.team or svc.team_of(caller)
    spec = ModelSpec(**{**body.model_dump(exclude={"team"}), "team": team})
    created = svc.registry.create_model(caller, spec)
    svc.forget_model(caller, body.name)  # a 404 cached a moment ago
    return created


@router.get("/v1/models")
def list_models(caller: Caller, svc: Svc) -> list[dict[str, Any]]:
    return svc.registry.list_models(caller)


@router.get("/v1/models/{name}")
def get_model(name: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.registry.get_model(caller, name)


@router.patch("/v1/models/{name}")
def update_model(name: str, body: ModelUpdate, caller: Caller, svc: Svc) -> dict[str, Any]:
    updated = svc.registry.update_model(caller, name, **body.model_dump(exclude_none=True))
    svc.forget_model(caller, name)
    return updated


@router.get(
    "/v1/models/{name}/contract",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}}},
)
def get_contract(name: str, caller: Caller, svc: Svc) -> Response:
    """The model's input/output contract (inferred from its first reference, or as last PUT)."""
    model = svc.model_row(caller, name, "read")
    if model.contract is None:
        raise NotFoundError(f"model {name!r} has no contract yet: upload a reference or PUT one")
    return Response(model.contract, media_type="application/yaml")


@router.put("/v1/models/{name}/contract")
async def put_contract(name: str, request: Request, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Replace the contract with an edited YAML; every later batch is validated against it. The body is
    YAML text, never a path: the server opens no file a request names."""
    from mlwarden.quality import Contract

    svc.model_row(caller, name, "admin")  # another team's model, or none: 404 before the body is read
    body, _ = await read_body(request, min(svc.max_body, MAX_CONTRACT))
    text = body.decode("utf-8", errors="replace")
    contract = Contract.from_yaml_text(text)  # rejects invalid YAML with the offending key named
    updated = svc.registry.update_model(caller, name, contract=text)
    svc.forget_model(caller, name)
    return {"name": updated["name"], "columns": len(contract.columns)}
