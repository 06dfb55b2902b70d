"""``POST /v1/models/{name}/labels``: ground truth, joined to predictions by id when windows are judged."""

from datetime import datetime
from typing import Any

import pandas as pd
from fastapi import APIRouter
from pydantic import BaseModel, Field

from mlwarden.server.deps import Caller, Svc
from mlwarden.server.ingest import ingest_labels
from mlwarden.server.limits import MAX_ROWS

router = APIRouter(tags=["labels"])


class LabelIn(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    label: str | int | float | bool
    timestamp: datetime | None = None


class LabelsIn(BaseModel):
    batch_id: str = Field(min_length=1, max_length=200)
    labels: list[LabelIn] = Field(min_length=1, max_length=MAX_ROWS)


@router.post("/v1/models/{name}/labels")
def post_labels(name: str, body: LabelsIn, caller: Caller, svc: Svc) -> dict[str, Any]:
    model = svc.model_row(caller, name, "ingest")
    frame = pd.DataFrame(
        {
            "id": [x.id for x in body.labels],
            "label": [x.label for x in body.labels],
            "timestamp": pd.to_datetime([x.timestamp for x in body.labels], utc=True),
        }
    )
    result = ingest_labels(svc.store, model, body.batch_id, frame)
    svc.count_batch(model, "labels", result)
    return result.to_dict()
