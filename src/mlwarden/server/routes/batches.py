"""``POST /v1/models/{name}/batches``: a batch of predictions (JSON, Parquet or Arrow), stored with its
partial profile in one transaction before the answer."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from mlwarden.errors import InputError
from mlwarden.registry import model_mapping
from mlwarden.server import batches
from mlwarden.server.deps import Caller, Svc
from mlwarden.server.ingest import ingest_predictions
from mlwarden.server.uploads import read_body

router = APIRouter(tags=["batches"])
Layout = Literal["columns", "records"]


@router.post("/v1/models/{name}/batches")
async def post_batch(
    name: str,
    request: Request,
    caller: Caller,
    svc: Svc,
    batch_id: Annotated[str | None, Query(description="required for Parquet/Arrow bodies")] = None,
    fingerprint: str | None = None,
    model_version: str | None = None,
    layout: Annotated[
        Layout,
        Query(description="Parquet/Arrow bodies: columns named by the model's mapping, or records' layout"),
    ] = "columns",
) -> dict[str, Any]:
    model = svc.model_row(caller, name, "ingest")
    body, content_type = await read_body(request, svc.max_body)

    def work() -> dict[str, Any]:
        mapping = model_mapping(model)
        if content_type in batches.TABLE_TYPES:
            batch = batches.from_table(
                body,
                content_type,
                batch_id,
                mapping,
                layout=layout,
                fingerprint=fingerprint,
                model_version=model_version,
            )
        elif content_type in batches.JSON_TYPES:
            batch = batches.from_json(batches.parse_json(body), mapping)
        else:
            raise InputError(
                f"Content-Type {content_type!r} not supported: use application/json, "
                "application/vnd.apache.parquet or application/vnd.apache.arrow.stream"
            )
        result = ingest_predictions(svc.store, model, batch, svc.current_reference(model))
        svc.count_batch(model, "predictions", result)
        return result.to_dict()

    return await run_in_threadpool(work)
