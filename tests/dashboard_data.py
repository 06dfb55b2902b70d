"""A store with data for the dashboard's tests: team growth's model ``<img src=x onerror=alert(1)>`` (model
names hold no ``/``), whose column, category, owner and on-call names are ``<script>alert(1)</script>``, with
a healthy and a drifted hour evaluated; team risk's model ``fraud``, registered only.

The retrain ledger and shadow traffic: version ``v2<img …>`` scores the healthy hour in shadow beside the
champion v1 (better scores), is recorded in the ledger (trigger ``<script>…``, the gate run on that shadow
traffic) and promoted; in the drifted hour v2 serves and v1 scores in shadow, which gives the outcome."""

from __future__ import annotations

from datetime import timedelta

import httpx
from service_data import parquet_bytes, past_window, reference_frame

from mlwarden.registry import create_token
from mlwarden.server.windows import evaluate_due
from mlwarden.store import Store

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
MODEL = "<img src=x onerror=alert(1)>"
MODEL_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
FEATURES = (SCRIPT, "x2", "x3", "plan")
CANDIDATE = "v2<img src=x onerror=alert(2)>"


def reference() -> object:
    """The labelled reference, its first feature named ``<script>…`` and a category ``<script>…``."""
    frame = reference_frame(2_000, seed=0).rename(columns={"x1": SCRIPT})
    frame.loc[frame.index % 10 == 0, "plan"] = SCRIPT
    return frame


def hour_records(start, *, prefix: str, drifted: bool, seed: int) -> tuple[list[dict], list[dict]]:
    """One hour of wire records and its labels; ``drifted`` shifts x2 and the script category's share."""
    frame = reference_frame(600, seed=seed).rename(columns={"x1": SCRIPT})
    frame.loc[frame.index % (3 if drifted else 10) == 0, "plan"] = SCRIPT
    if drifted:
        frame["x2"] += 1.0
    records, labels = [], []
    for i, row in enumerate(frame.to_dict("records")):
        rid = f"{prefix}-{i}"
        records.append(
            {
                "id": rid,
                "timestamp": (start + timedelta(seconds=i * 2)).isoformat(),
                "features": {k: row[k] for k in FEATURES},
                "prediction": int(row["prediction"]),
                "score": float(row["score"]),
            }
        )
        labels.append({"id": rid, "label": int(row["label"])})
    return records, labels


def better(records: list[dict], labels: list[dict]) -> list[dict]:
    """The candidate's outputs on the same requests: scores pulled towards the label (a better ranking)."""
    truth = {label["id"]: label["label"] for label in labels}
    out = []
    for record in records:
        score = 0.6 * record["score"] + 0.4 * truth[record["id"]]  # better, not perfect (realized < 1)
        out.append(record | {"score": score, "prediction": int(score > 0.5)})
    return out


def seed(client: httpx.Client | object, store: Store) -> dict[str, str]:
    """Fill ``store`` through ``client`` (a TestClient or an httpx client of a running server); the tokens."""
    tokens = {
        "growth_admin": create_token(store, team="growth", name="admin", scopes=["admin"]),
        "growth_read": create_token(store, team="growth", name="reader", scopes=["read"]),
        "growth_ingest": create_token(store, team="growth", name="sdk", scopes=["ingest"]),
        "risk_admin": create_token(store, team="risk", name="admin", scopes=["admin"]),
    }
    growth = {"Authorization": f"Bearer {tokens['growth_admin']}"}
    risk = {"Authorization": f"Bearer {tokens['risk_admin']}"}
    spec = {
        "name": MODEL,
        "team": "growth",
        "owner_name": SCRIPT,
        "owner_email": "owner@example.com",
        "oncall": SCRIPT,
        "runbook_url": "javascript:alert(1)",
        "description": SCRIPT,
        "slos": {"roc_auc": 0.8},
    }
    _ok(client.post("/v1/models", json=spec, headers=growth))
    _ok(
        client.post(
            f"/v1/models/{MODEL}/versions", json={"version": "v1", "stage": "champion"}, headers=growth
        )
    )
    parquet = {"Content-Type": "application/vnd.apache.parquet"}
    _ok(
        client.post(
            f"/v1/models/{MODEL}/reference", content=parquet_bytes(reference()), headers=growth | parquet
        )
    )
    _ok(
        client.post(
            f"/v1/models/{MODEL}/versions", json={"version": CANDIDATE, "stage": "shadow"}, headers=growth
        )
    )
    for hours, drifted in ((3, False), (2, True)):
        records, labels = hour_records(past_window(hours), prefix=f"h{hours}", drifted=drifted, seed=hours)
        candidate = better(records, labels)
        # hour 3: v1 serves (unversioned batches), the candidate in shadow; hour 2: the reverse
        served, shadow = (records, candidate) if hours == 3 else (candidate, records)
        versions = (None, CANDIDATE) if hours == 3 else (CANDIDATE, "v1")
        for kind, batch, version in (("b", served, versions[0]), ("s", shadow, versions[1])):
            body = {"batch_id": f"{kind}{hours}", "records": batch, "model_version": version}
            _ok(client.post(f"/v1/models/{MODEL}/batches", json=body, headers=growth))
        _ok(
            client.post(
                f"/v1/models/{MODEL}/labels", json={"batch_id": f"l{hours}", "labels": labels}, headers=growth
            )
        )
        evaluate_due(store)
        if hours == 3:  # the ledger: the gate on the shadow hour, then the promotion
            retrain = {"candidate": CANDIDATE, "trigger": SCRIPT, "retrain": {"outcome_windows": 1}}
            _ok(client.post(f"/v1/models/{MODEL}/retrains", json=retrain, headers=growth))
            _ok(client.post(f"/v1/models/{MODEL}/versions/{CANDIDATE}/promote", headers=growth))
    fraud = {"name": "fraud", "team": "risk", "owner_name": "Grace"}
    _ok(client.post("/v1/models", json=fraud, headers=risk))
    config = f'# {SCRIPT}\nmodel: "{MODEL}"\nslo: {{roc_auc: {{min: 0.8}}}}\n'
    _ok(client.put(f"/v1/models/{MODEL}/config", content=config.encode(), headers=growth))
    return tokens


def _ok(response) -> None:
    assert response.status_code < 300, response.text
