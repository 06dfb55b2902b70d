"""pandas 3 Arrow-backed input through the SDK into a real mlwarden server, read back from its store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from mlwarden.client import Warden
from mlwarden.registry import create_token
from mlwarden.server.background import BackgroundServer
from mlwarden.store import Store
from mlwarden.store.schema import Label, Prediction


def test_arrow_backed_input_is_stored_with_its_values(store: Store, tmp_path) -> None:
    token = create_token(store, team="growth", name="svc", scopes=["admin"])
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    stamps = pd.Series([start + timedelta(seconds=i) for i in range(4)], index=[3, 2, 1, 0])
    features = pd.DataFrame(
        {
            "x": pd.array([0.5, None, 2.5, 3.5], dtype="float64[pyarrow]"),
            "plan": pd.Series(["free", "pro", None, "pro"], dtype="string[pyarrow]"),
        },
        index=[9, 8, 7, 6],  # aligned with the other fields by position, not by these labels
    )
    with (
        BackgroundServer(store, evaluate_every=None) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api,
    ):
        api.post("/v1/models", json={"name": "churn", "owner_email": "ada@example.com"}).raise_for_status()
        with Warden(server.url, token=token, spool_dir=tmp_path / "spool", flush_interval=0.05) as warden:
            warden.log(
                "churn",
                features,
                prediction=pd.Series([1, 0, 0, 1], dtype="int64[pyarrow]", index=[0, 1, 2, 3]),
                score=pd.Series([0.9, 0.2, np.nan, 0.7], dtype=pd.ArrowDtype(pa.float64())),
                id=pd.array(["p0", "p1", "p2", "p3"], dtype="string[pyarrow]"),
                timestamp=stamps.astype(pd.ArrowDtype(pa.timestamp("us", tz="UTC"))),
            )
            warden.log_labels(
                "churn", pd.Series(["p1", "p3"], dtype="string[pyarrow]"), pd.array([0, 1], dtype="Int64")
            )
            assert warden.flush(timeout=20)
            stats = warden.stats
        assert (stats.sent, stats.dropped, stats.rejected) == (6, 0, {})
    with store.engine.connect() as connection:
        predictions = connection.execute(
            sa.select(
                Prediction.prediction_id, Prediction.prediction, Prediction.score, Prediction.ts
            ).order_by(Prediction.prediction_id)
        ).all()
        labels = connection.execute(
            sa.select(Label.prediction_id, Label.label).order_by(Label.prediction_id)
        ).all()
    assert [(p.prediction_id, p.prediction, p.score) for p in predictions] == [
        ("p0", "1", 0.9),
        ("p1", "0", 0.2),
        ("p2", "0", None),
        ("p3", "1", 0.7),
    ]
    stored = [p.ts if p.ts.tzinfo else p.ts.replace(tzinfo=UTC) for p in predictions]
    assert stored == [start + timedelta(seconds=i) for i in range(4)]
    assert [(label.prediction_id, label.label) for label in labels] == [("p1", "0"), ("p3", "1")]


def test_rows_the_server_would_refuse_are_rejected_alone(store: Store, tmp_path) -> None:
    """A NUL in a value, a control character in a feature name or a prediction longer than the store holds
    would cost the whole batch (the rows of other calls included): the client rejects those rows alone, and
    the rest is stored."""
    token = create_token(store, team="growth", name="svc", scopes=["admin"])
    stamp = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with (
        BackgroundServer(store, evaluate_every=None) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api,
    ):
        api.post("/v1/models", json={"name": "churn", "owner_email": "ada@example.com"}).raise_for_status()
        options = {"token": token, "spool_dir": tmp_path / "spool", "flush_interval": 60.0}
        with Warden(server.url, **options) as warden:  # one flush: every call's rows in one batch
            warden.log("churn", {"plan": "free"}, prediction="yes", id="p0", timestamp=stamp)
            warden.log(
                "churn",
                pd.DataFrame({"plan": ["pro", "te\x00am", "free"]}),
                prediction=["no", "yes", "n\x00o"],
                id=["p1", "p2", "p3"],
                timestamp=[stamp] * 3,
            )
            warden.log("churn", {"plan": "pro", "bad\tname": 1}, prediction="no", id="p4", timestamp=stamp)
            warden.log("churn", {"plan": "pro"}, prediction="yes", id="p\x005", timestamp=stamp)
            warden.log("churn", {"plan": "pro"}, prediction="y" * 201, id="p6", timestamp=stamp)  # too long
            assert warden.flush(timeout=20)
            stats = warden.stats
        assert (stats.sent, stats.dropped, stats.rejected_rows) == (2, 0, {"bad_text": 4, "long_text": 1})
    with store.engine.connect() as connection:
        stored = connection.execute(
            sa.select(Prediction.prediction_id, Prediction.prediction).order_by(Prediction.prediction_id)
        ).all()
    assert [(p.prediction_id, p.prediction) for p in stored] == [("p0", "yes"), ("p1", "no")]
