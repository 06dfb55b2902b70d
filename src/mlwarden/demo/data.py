"""A synthetic telecom-churn table and a churn model: healthy, drifted, and with a broken feature pipeline."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Phase = Literal["healthy", "drifted", "broken"]
CONTRACTS = np.array(["month-to-month", "one-year", "two-year"])
PAYMENTS = np.array(["card", "bank-transfer", "electronic-check", "mailed-check"])
INTERNET = np.array(["dsl", "fiber", "none"])
REGIONS = np.array(["north", "south", "east", "west", "central"])
FEATURES = [
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "contract",
    "payment_method",
    "internet_service",
    "support_calls",
    "age",
    "region",
    "paperless_billing",
]
BROKEN_FEATURE = "tenure_months"  # what the broken pipeline returns as 0
ID, TARGET, SCORE, PREDICTION = "customer_id", "churned", "churn_score", "churn_predicted"


def churn(
    n: int = 20_000, *, phase: Phase = "healthy", seed: int = 0, id_prefix: str | None = None
) -> pd.DataFrame:
    """Customers with features and a churn label.

    ``phase="drifted"`` looks like production months later: prices rose (monthly charges +12 %), more
    customers are on month-to-month contracts, support calls went up and a new payment method appeared.
    ``phase="broken"`` is the drifted population after the upstream job that fills ``tenure_months`` broke:
    the model sees 0 for everyone, while the outcome still depends on the real tenure.
    """
    drift = phase != "healthy"
    rng = np.random.default_rng(seed)
    contract_p = [0.62, 0.22, 0.16] if drift else [0.45, 0.30, 0.25]
    contract = CONTRACTS[rng.choice(3, n, p=contract_p)]
    tenure = np.clip(rng.gamma(2.0, 14.0, n), 1, 72).round()
    internet = INTERNET[rng.choice(3, n, p=[0.35, 0.45, 0.20])]
    base = np.select([internet == "fiber", internet == "dsl"], [85.0, 55.0], 25.0)
    monthly = np.clip(base * (1.12 if drift else 1.0) + rng.normal(0, 12, n), 18, 140).round(2)
    total = (monthly * tenure * rng.uniform(0.92, 1.0, n)).round(2)
    payments = np.append(PAYMENTS, "wallet") if drift else PAYMENTS
    pay_p = [0.25, 0.2, 0.3, 0.1, 0.15] if drift else [0.3, 0.25, 0.3, 0.15]
    payment = payments[rng.choice(len(payments), n, p=pay_p)]
    calls = rng.poisson(1.9 if drift else 1.2, n)
    age = np.clip(rng.normal(46, 14, n), 18, 90).round()
    logit = (
        -1.2
        + 1.3 * (contract == "month-to-month")
        - 0.9 * (contract == "two-year")
        - 0.07 * tenure
        + 0.018 * (monthly - 60)
        + 0.35 * calls
        + 0.4 * (payment == "electronic-check")
        - 0.01 * (age - 46)
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    prefix = f"c{seed}-" if id_prefix is None else id_prefix
    frame = pd.DataFrame(
        {
            ID: prefix + pd.Series(np.arange(n)).astype(str).str.zfill(6),
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "total_charges": total,
            "contract": contract,
            "payment_method": payment,
            "internet_service": internet,
            "support_calls": calls,
            "age": age,
            "region": REGIONS[rng.choice(5, n)],
            "paperless_billing": rng.random(n) < 0.6,
            TARGET: churned.astype(int),
        }
    )
    if phase == "broken":
        frame[BROKEN_FEATURE] = 0.0
    return frame


def encode(frame: pd.DataFrame) -> pd.DataFrame:
    """Model inputs: numeric features as they are, categorical ones one-hot on fixed vocabularies."""
    out = frame[["tenure_months", "monthly_charges", "total_charges", "support_calls", "age"]].astype(float)
    for name, vocabulary in (
        ("contract", CONTRACTS),
        ("payment_method", PAYMENTS),
        ("internet_service", INTERNET),
    ):
        for value in vocabulary:
            out[f"{name}={value}"] = (frame[name] == value).astype(float)
    out["paperless_billing"] = frame["paperless_billing"].astype(float)
    return out


def train(n: int = 20_000, seed: int = 0):
    """A logistic-regression churn model (scikit-learn pipeline) fitted on ``n`` healthy customers."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = churn(n, seed=seed)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(encode(data), data[TARGET])


def score(model, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the model's churn probability (``churn_score``) and 0/1 decision at 0.5 added."""
    out = frame.copy()
    out[SCORE] = model.predict_proba(encode(frame))[:, 1].round(4)
    out[PREDICTION] = (out[SCORE] >= 0.5).astype(int)
    return out
