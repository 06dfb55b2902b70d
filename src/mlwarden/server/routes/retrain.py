"""Retraining: the plan (every trigger with its numbers), the ledger, promotion and rollback, shadow
comparisons and the retrain notifications sent (DESIGN §8; docs/retrain.md)."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from mlwarden.errors import InputError
from mlwarden.schema.retraining import RetrainSection
from mlwarden.server import ledger
from mlwarden.server.deps import Caller, Svc
from mlwarden.server.retrain_plan import notifications, plan_for, section_of
from mlwarden.server.shadow import shadow_history, shadow_summary

router = APIRouter(tags=["retrain"])


class PlanIn(BaseModel):
    retrain: dict[str, Any] = Field(description="a retrain: section to plan with instead of the stored one")


class RetrainIn(BaseModel):
    candidate: str = Field(min_length=1, max_length=100, description="the registered version retrained")
    gate: dict[str, Any] | None = Field(
        default=None,
        description="a gate decision made offline (DESIGN §8 JSON, as `retrain evaluate --format json` "
        "writes it); left out: the gate is run here on the candidate's shadow traffic",
    )
    gate_config: dict[str, Any] = Field(default_factory=dict)
    trigger: str | None = Field(default=None, max_length=100)
    evidence: dict[str, Any] = Field(default_factory=dict)
    code_commit: str | None = Field(default=None, max_length=100)
    feature_fingerprint: str | None = Field(default=None, max_length=128)
    data_start: datetime | None = None
    data_end: datetime | None = None
    profile_digest: str | None = Field(default=None, max_length=128)
    retrain: dict[str, Any] | None = Field(
        default=None, description="retrain: settings (gate, outcome_windows)"
    )


@router.get("/v1/models/{name}/retrain/plan")
def get_plan(name: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Each trigger and guard of the model's stored ``retrain:`` section: fires or not, and why."""
    return plan_for(svc.store, caller, name)


@router.post("/v1/models/{name}/retrain/plan")
def post_plan(name: str, body: PlanIn, caller: Caller, svc: Svc) -> dict[str, Any]:
    """The plan for the ``retrain:`` section sent (validated; errors name the path). Needs the admin scope,
    as applying a configuration does: this is the dry run of one."""
    svc.model_row(caller, name, "admin")
    return plan_for(svc.store, caller, name, RetrainSection.from_dict(body.retrain))


@router.get("/v1/models/{name}/retrains")
def get_retrains(name: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    """The ledger, newest first, and how many retrains helped, hurt or made no difference."""
    return ledger.history(svc.store, caller, name)


@router.post("/v1/models/{name}/retrains", status_code=201)
async def post_retrain(name: str, body: RetrainIn, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Record a retrain: its gate decision (sent, or made here on shadow traffic) and provenance."""
    fields = body.model_dump(exclude={"retrain", "gate"})
    if body.retrain is not None:
        section = RetrainSection.from_dict(body.retrain)
    else:
        section = section_of(svc.store, svc.model_row(caller, name, "admin"))
    return await run_in_threadpool(
        ledger.record_retrain,
        svc.store,
        caller,
        name,
        fields.pop("candidate"),
        section=section,
        gate_result=body.gate,
        **fields,
    )


@router.post("/v1/models/{name}/versions/{version}/promote")
def promote(name: str, version: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Make the version champion (its gate decision must be promote); the old champion goes to shadow and,
    with ``retrain.mlflow`` configured, MLflow's ``champion`` alias moves to the version."""
    section = section_of(svc.store, svc.model_row(caller, name, "admin"))
    return ledger.promote(svc.store, caller, name, version, section)


@router.post("/v1/models/{name}/versions/{version}/rollback")
def rollback(name: str, version: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    """Undo the promotion of the champion ``version``: the champion it replaced is restored."""
    return ledger.rollback(svc.store, caller, name, version)


@router.get("/v1/models/{name}/shadow")
def get_shadow(name: str, caller: Caller, svc: Svc, version: str | None = None) -> dict[str, Any]:
    """Per window, each shadow version against the champion: agreement and the paired metric difference."""
    model = svc.model_row(caller, name, "read")
    with svc.store.session() as session:
        windows = shadow_history(session, model.id, version)
    versions = sorted({w["version"] for w in windows})
    summary = {v: shadow_summary([w for w in windows if w["version"] == v]) for v in versions}
    return {"model": name, "versions": summary, "windows": windows}


@router.get("/v1/models/{name}/retrain/notifications")
def get_notifications(name: str, caller: Caller, svc: Svc) -> list[dict[str, Any]]:
    """The retrain notifications posted to ``retrain.notify``, with their attempts."""
    model = svc.model_row(caller, name, "read")
    with svc.store.session() as session:
        return notifications(session, model.id)


class MlflowSyncIn(BaseModel):
    tracking_uri: str | None = Field(default=None, description="default: the stored retrain.mlflow")
    model: str | None = Field(default=None, description="MLflow's registered model (default: this name)")


@router.post("/v1/models/{name}/versions/mlflow-sync")
async def mlflow_sync(name: str, body: MlflowSyncIn, caller: Caller, svc: Svc) -> list[dict[str, Any]]:
    """Register the versions of the model's MLflow registered model that mlwarden lacks."""
    from mlwarden.registry.mlflow import sync_versions

    section = section_of(svc.store, svc.model_row(caller, name, "admin"))
    if body.tracking_uri is not None:
        target = RetrainSection.from_dict({"mlflow": body.model_dump(exclude_none=True)}).mlflow
    elif section is not None and section.mlflow is not None:
        target = section.mlflow
    else:
        raise InputError("tracking_uri: required (the model has no stored retrain.mlflow)")
    return await run_in_threadpool(sync_versions, svc.registry, caller, name, target)
