"""Labelled rows scored by two models with a known relation between them (seeded)."""

import numpy as np
import pandas as pd

COUNTRIES = ["DE", "ES", "FR", "IT"]
# The decision JSON's keys, in DESIGN §8's order
DESIGN_KEYS = [
    "decision",
    "metric",
    "test",
    "n",
    "champion",
    "challenger",
    "delta",
    "ci",
    "p_value",
    "slices",
    "reasons",
]


def scored(
    n=6000,
    *,
    seed=0,
    champion_noise=1.0,
    challenger_noise=1.0,
    worse_on=None,
    worse_noise=3.0,
):
    """Binary labels from a latent risk; each model scores the risk plus its own independent noise (less
    noise: a better model). ``worse_on``: a country where the challenger's noise is ``worse_noise``.
    Columns: churned (0/1), score_a/score_b (probabilities), pred_a/pred_b (decided at 0.5), country,
    tenure, charges (features)."""
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 12.0, n)
    charges = rng.normal(60, 15, n)
    risk = -0.05 * (tenure - 24) + 0.04 * (charges - 60) + rng.normal(0, 0.8, n)
    churned = (risk + rng.normal(0, 1.0, n) > 0.3).astype(int)
    country = np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n)]
    noise_b = np.full(n, challenger_noise)
    if worse_on is not None:
        noise_b[country == worse_on] = worse_noise
    score_a = 1 / (1 + np.exp(-(risk - 0.3 + rng.normal(0, 1, n) * champion_noise)))
    score_b = 1 / (1 + np.exp(-(risk - 0.3 + rng.normal(0, 1, n) * noise_b)))
    return pd.DataFrame(
        {
            "tenure": tenure,
            "charges": charges,
            "country": country,
            "churned": churned,
            "score_a": score_a,
            "score_b": score_b,
            "pred_a": (score_a >= 0.5).astype(int),
            "pred_b": (score_b >= 0.5).astype(int),
        }
    )
