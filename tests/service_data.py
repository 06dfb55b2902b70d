"""Data and request helpers shared by the service tests."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd


def reference_frame(n: int = 4_000, seed: int = 0) -> pd.DataFrame:
    """A labelled reference: three numeric features, one categorical, a calibrated score and its label."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    plan = rng.choice(["basic", "plus", "pro"], size=n, p=[0.5, 0.3, 0.2])
    logit = 1.2 * x[:, 0] - 0.8 * x[:, 1] + 0.3 * (plan == "pro")
    score = 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "x1": x[:, 0],
            "x2": x[:, 1],
            "x3": x[:, 2],
            "plan": plan,
            "prediction": (score > 0.5).astype(int),
            "score": score,
            "label": rng.binomial(1, score),
        }
    )


def records(frame: pd.DataFrame, start: datetime, *, prefix: str, spacing: float = 0.01) -> list[dict]:
    """JSON wire records for ``frame`` with timestamps from ``start``."""
    out = []
    for i, row in enumerate(frame.to_dict("records")):
        out.append(
            {
                "id": f"{prefix}-{i}",
                "timestamp": (start + timedelta(seconds=i * spacing)).isoformat(),
                "features": {k: row[k] for k in ("x1", "x2", "x3", "plan")},
                "prediction": int(row["prediction"]),
                "score": float(row["score"]),
            }
        )
    return out


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def past_window(hours: int = 3) -> datetime:
    """The start of a closed one-hour window ``hours`` ago."""
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)


def broken_pro(n: int, seed: int) -> pd.DataFrame:
    """A window where only the "pro" plan (20 % of rows) drifts on x3 and its scores turn to noise."""
    current = reference_frame(n, seed=seed)
    rng = np.random.default_rng(seed)
    pro = (current["plan"] == "pro").to_numpy()
    current.loc[pro, "x3"] += 1.0
    current.loc[pro, "score"] = rng.random(pro.sum())
    current["prediction"] = (current["score"] > 0.5).astype(int)
    return current
