"""A model on a real store with champion and shadow versions scoring the same requests, for the retrain
tests: traffic whose relation to the label changes (x2 starts to matter), a champion that ignores x2, a
challenger trained on recent data that uses it, a worse one, and labels."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from mlwarden.profile import DatasetProfile
from mlwarden.registry import Actor, ModelSpec, Registry, model_mapping
from mlwarden.server import batches
from mlwarden.server.ingest import ingest_labels, ingest_predictions, latest_reference
from mlwarden.server.reference import store_reference
from mlwarden.server.windows import evaluate_due
from mlwarden.store import Store
from mlwarden.store.schema import Model

OPERATOR = Actor.operator("test")
FEATURES = ["x1", "x2", "x3", "segment"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def traffic(n: int, seed: int, *, shifted: bool) -> pd.DataFrame:
    """Features and labels. Before the shift the label depends on x1 only; after it on x2 too, and x2's
    distribution moves (drift in an important feature)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    if shifted:
        x[:, 1] += 0.8
    segment = rng.choice(["north", "south"], size=n)
    logit = 1.5 * x[:, 0] + (1.5 * (x[:, 1] - 0.8) if shifted else 0.0)
    label = rng.binomial(1, sigmoid(logit))
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "segment": segment, "label": label})


def score(frame: pd.DataFrame, version: str) -> np.ndarray:
    """Each version's P(label = 1): v1 knows x1 only; v2 (trained on recent data) x1 and x2; v0 is worse
    (x1 with noise); ``v2-south`` is v2 except that on the south segment it is nearly random."""
    if version.endswith("-copy"):  # the same model under another version label
        return score(frame, version.removesuffix("-copy"))
    x1, x2 = frame["x1"].to_numpy(), frame["x2"].to_numpy()
    if version == "v1":
        return sigmoid(1.5 * x1)
    if version == "v2":
        return sigmoid(1.5 * x1 + 1.5 * (x2 - 0.8))
    if version == "v2-south":
        south = (frame["segment"] == "south").to_numpy()
        noise = np.random.default_rng(5).normal(size=len(frame))
        return np.where(south, sigmoid(0.2 * x1 + noise), sigmoid(1.5 * x1 + 1.5 * (x2 - 0.8)))
    if version == "v0":
        noise = np.random.default_rng(6).normal(scale=2.0, size=len(frame))
        return sigmoid(0.5 * x1 + noise)
    raise ValueError(version)


def register(store: Store, name: str = "churn", slos: dict[str, float] | None = None) -> Registry:
    registry = Registry(store)
    registry.create_model(
        OPERATOR,
        ModelSpec(
            name=name,
            team="growth",
            slos=slos or {},
            columns={"target": "label", "prediction": "prediction", "scores": "score", "positive_label": 1},
        ),
    )
    reference = traffic(3_000, seed=1, shifted=False)
    reference["score"] = score(reference, "v1")
    reference["prediction"] = (reference["score"] > 0.5).astype(int)
    with store.session() as session:
        model = session.query(Model).filter_by(name=name).one()
    store_reference(store, model, reference)
    return registry


def log(store: Store, name: str, frame: pd.DataFrame, start: datetime, version: str, prefix: str) -> None:
    """Ingest ``version``'s predictions on ``frame`` (ids ``prefix-i``) with times spread over an hour."""
    with store.session() as session:
        model = session.query(Model).filter_by(name=name).one()
    scores = score(frame, version)
    rows = frame[FEATURES].to_dict("records")
    records = [
        {
            "id": f"{prefix}-{i}",
            "timestamp": (start + timedelta(seconds=i * 3599 / len(frame))).isoformat(),
            "features": rows[i],
            "prediction": int(s > 0.5),
            "score": float(s),
        }
        for i, s in enumerate(scores)
    ]
    payload = {"batch_id": f"{prefix}-{version}", "records": records, "model_version": version}
    with store.session() as session:
        reference = DatasetProfile.from_bytes(latest_reference(session, model.id).profile)
    ingest_predictions(store, model, batches.from_json(payload, model_mapping(model)), reference)


def label(store: Store, name: str, frame: pd.DataFrame, prefix: str) -> None:
    with store.session() as session:
        model = session.query(Model).filter_by(name=name).one()
    labels = pd.DataFrame({"id": [f"{prefix}-{i}" for i in range(len(frame))], "label": frame["label"]})
    ingest_labels(store, model, f"labels-{prefix}", labels)


def evaluate(store: Store) -> int:
    return evaluate_due(store, now=datetime.now().astimezone() + timedelta(days=1))
