"""``POST /v1/models/{name}/reference``: the data (or saved profile) windows are compared with."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from mlwarden.server.deps import Caller, Svc
from mlwarden.server.reference import read_reference, store_reference
from mlwarden.server.uploads import read_upload

router = APIRouter(tags=["references"])


@router.post("/v1/models/{name}/reference", status_code=201)
async def post_reference(name: str, request: Request, caller: Caller, svc: Svc) -> dict[str, Any]:
    """The reference: a saved profile, or Parquet / Arrow IPC / CSV data — as the raw body with its
    Content-Type, or as a multipart file upload (field ``file``; the type from the file name)."""
    model = svc.model_row(caller, name, "ingest")
    body, content_type = await read_upload(request, svc.max_body)
    data = await run_in_threadpool(read_reference, body, content_type)
    stored = await run_in_threadpool(store_reference, svc.store, model, data)
    svc.forget_reference(model)
    svc.forget_model(caller, name)
    return stored
