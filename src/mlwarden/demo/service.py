"""The demo's conversation with a running mlwarden server: register, upload, stream, wait, read back."""

from __future__ import annotations

import io
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from mlwarden.client import Warden
from mlwarden.client.warden import Stats
from mlwarden.demo.data import FEATURES, ID, PREDICTION, SCORE, TARGET
from mlwarden.demo.scenario import Hour
from mlwarden.errors import ConflictError, MlwardenError

MODEL = "churn"
VERSION = "v1"
MODEL_SPEC: dict[str, Any] = {
    "name": MODEL,
    "description": "Probability that a telecom customer cancels within 30 days",
    "owner_name": "Ada Lovelace",
    "owner_email": "ada@example.com",
    "oncall": "pagerduty:churn-model",
    "runbook_url": "https://wiki.example.com/runbooks/churn-model",
    "slos": {"roc_auc": 0.78},
    "columns": {  # the model's ColumnMapping
        "target": TARGET,
        "prediction": PREDICTION,
        "scores": SCORE,
        "positive_label": 1,
        "id": ID,
        "timestamp": "ts",
    },
    "window_seconds": 3600,
    "grace_seconds": 0,
}


def register(api: httpx.Client, offline_metrics: dict[str, float]) -> dict[str, Any]:
    """Register the model with its owner, on-call, runbook and SLO, and v1 as champion; the model back."""
    created = api.post("/v1/models", json=MODEL_SPEC)
    if created.status_code == 409:
        raise ConflictError(f"the store already has a model {MODEL!r}: run the demo on a fresh --db")
    created.raise_for_status()
    version = {"version": VERSION, "stage": "champion", "offline_metrics": offline_metrics}
    api.post(f"/v1/models/{MODEL}/versions", json=version).raise_for_status()
    return api.get(f"/v1/models/{MODEL}").raise_for_status().json()


def upload_reference(api: httpx.Client, reference: pd.DataFrame) -> dict[str, Any]:
    """POST the labelled reference as Parquet (the server profiles it and keeps the labelled outputs)."""
    buffer = io.BytesIO()
    reference.to_parquet(buffer)
    response = api.post(
        f"/v1/models/{MODEL}/reference",
        content=buffer.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    return response.raise_for_status().json()


def stream(url: str, token: str, hours: list[Hour], spool_dir: Path) -> Stats:
    """Log every hour's predictions through the SDK, and the churn outcomes known so far as labels.

    A replay sends each labelled hour's outcomes just before its traffic: the server joins labels to
    predictions by id when it evaluates a window, but does not re-evaluate a window for labels that arrive
    after its last evaluation.
    """
    size = len(hours[0].frame)  # one request per hour: a batch never straddles two windows
    with Warden(
        url, token=token, batch_size=size, flush_interval=0.2, spool_dir=spool_dir, model_version=VERSION
    ) as warden:
        for hour in hours:
            frame = hour.frame
            if hour.labelled:
                warden.log_labels(MODEL, frame[ID].to_numpy(), frame[TARGET].to_numpy())
            warden.log(
                MODEL,
                frame[FEATURES],
                prediction=frame[PREDICTION].to_numpy(),
                score=frame[SCORE].to_numpy(),
                id=frame[ID].to_numpy(),
                timestamp=hour.timestamps,
            )
        if not warden.flush(timeout=120):
            raise MlwardenError("the demo server did not acknowledge the traffic within 120 s")
        stats = warden.stats
    if stats.dropped or stats.errors or stats.spooled:
        raise MlwardenError(f"the SDK did not deliver every row: {stats}")
    return stats


def wait_until_evaluated(
    api: httpx.Client, hours: list[Hour], timeout: float = 120.0
) -> list[dict[str, Any]]:
    """Poll the windows until each hour's window is evaluated with all of its rows; oldest first."""
    expected = {hour.start: len(hour.frame) for hour in hours}
    deadline = time.monotonic() + timeout
    while True:
        windows = api.get(f"/v1/models/{MODEL}/windows").raise_for_status().json()
        done = {
            datetime.fromisoformat(w["start"]): w
            for w in windows
            if w["status"] == "evaluated" and (w["summary"] or {}).get("rows") is not None
        }
        if all(start in done and done[start]["summary"]["rows"] == n for start, n in expected.items()):
            return [done[start] for start in sorted(expected)]
        if time.monotonic() > deadline:
            raise MlwardenError(f"windows not evaluated within {timeout:.0f} s: {windows}")
        time.sleep(0.25)


def findings(api: httpx.Client) -> list[dict[str, Any]]:
    return api.get(f"/v1/models/{MODEL}/findings", params={"limit": 10_000}).raise_for_status().json()


def alerts(api: httpx.Client) -> list[dict[str, Any]]:
    return api.get("/v1/alerts").raise_for_status().json()


def metrics(api: httpx.Client) -> str:
    return api.get("/metrics").raise_for_status().text
