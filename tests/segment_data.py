"""A population of ten countries for the segment tests: drift and a performance drop in one of them."""

import numpy as np
import pandas as pd

COUNTRIES = ["DE", "FR", "US", "ES", "IT", "NL", "PL", "SE", "BE", "AT"]


def population(n: int, seed: int, *, broken: str | None = None) -> pd.DataFrame:
    """Ten countries of 10 % each; with ``broken``, that country's x3 shifts by one sd and the model's scores
    there become noise (its performance drops to chance)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(5)})
    df["plan"] = rng.choice(["a", "b", "c"], n)
    df["country"] = rng.choice(COUNTRIES, n)
    logit = df["x0"] + 0.8 * df["x1"] - 0.5 * df["x2"]
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    score = 1 / (1 + np.exp(-logit.to_numpy()))
    if broken is not None:
        hit = (df["country"] == broken).to_numpy()
        df.loc[hit, "x3"] += 1.0
        score = np.where(hit, rng.random(n), score)
    df["score"] = score
    df["pred"] = (score > 0.5).astype(int)
    return df
