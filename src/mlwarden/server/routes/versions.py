"""A model's versions: register, change a stage, attach the profile of the training data."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from mlwarden.profile import DatasetProfile, profile
from mlwarden.registry import model_mapping
from mlwarden.server.deps import Caller, Svc
from mlwarden.server.reference import read_reference
from mlwarden.server.uploads import read_upload

router = APIRouter(tags=["versions"])


class VersionIn(BaseModel):
    version: str = Field(min_length=1, max_length=100)
    stage: str = "shadow"
    artifact_uri: str | None = None
    feature_fingerprint: str | None = None
    offline_metrics: dict[str, float] = Field(default_factory=dict)


class StageIn(BaseModel):
    stage: str


@router.post("/v1/models/{name}/versions", status_code=201)
def register_version(name: str, body: VersionIn, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.registry.register_version(caller, name, **body.model_dump())


@router.put("/v1/models/{name}/versions/{version}/stage")
def set_stage(name: str, version: str, body: StageIn, caller: Caller, svc: Svc) -> dict[str, Any]:
    return svc.registry.set_stage(caller, name, version, body.stage)


@router.put("/v1/models/{name}/versions/{version}/training-profile")
async def put_training_profile(
    name: str, version: str, request: Request, caller: Caller, svc: Svc
) -> dict[str, Any]:
    """The profile of the data a version was trained on (a saved profile, or data to profile — binned on
    the reference's edges, as windows are, so that window skew checks compare bin by bin)."""
    model = svc.model_row(caller, name, "admin")
    body, content_type = await read_upload(request, svc.max_body)
    data = await run_in_threadpool(read_reference, body, content_type)

    def training_profile() -> DatasetProfile:
        if isinstance(data, DatasetProfile):
            return data
        return profile(data, mapping=model_mapping(model), reference=svc.current_reference(model))

    training = await run_in_threadpool(training_profile)
    return svc.registry.set_training_profile(caller, name, version, training.to_bytes())
