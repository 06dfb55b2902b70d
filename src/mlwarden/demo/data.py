"""A synthetic telecom-churn table, with a drifted and partly broken production period."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def churn(n: int = 20_000, *, drift: bool = False, seed: int = 0) -> pd.DataFrame:
    """Customers with features and a churn label.

    With ``drift=True`` the period looks like production three months later: prices rose (monthly charges
    +12 %), more customers are on month-to-month contracts, support calls went up, a new payment method
    appeared, and the upstream pipeline that fills ``age`` silently returns 0 for everyone.
    """
    rng = np.random.default_rng(seed)
    contract_p = [0.62, 0.22, 0.16] if drift else [0.45, 0.30, 0.25]
    contract = CONTRACTS[rng.choice(3, n, p=contract_p)]
    tenure = np.clip(rng.gamma(2.0, 14.0, n), 1, 72).round()
    internet = INTERNET[rng.choice(3, n, p=[0.35, 0.45, 0.20])]
    base = np.select([internet == "fiber", internet == "dsl"], [85.0, 55.0], 25.0)
    monthly = np.clip(base * (1.12 if drift else 1.0) + rng.normal(0, 12, n), 18, 140).round(2)
    total = (monthly * tenure * rng.uniform(0.92, 1.0, n)).round(2)
    payments = PAYMENTS if not drift else np.append(PAYMENTS, "wallet")
    pay_p = [0.3, 0.25, 0.3, 0.15] if not drift else [0.25, 0.2, 0.3, 0.1, 0.15]
    payment = payments[rng.choice(len(payments), n, p=pay_p)]
    calls = rng.poisson(1.9 if drift else 1.2, n)
    age = np.clip(rng.normal(46, 14, n), 18, 90).round()
    region = REGIONS[rng.choice(5, n)]
    paperless = rng.random(n) < 0.6
    logit = (
        -1.2
        + 1.3 * (contract == "month-to-month")
        - 0.9 * (contract == "two-year")
        - 0.035 * tenure
        + 0.018 * (monthly - 60)
        + 0.35 * calls
        + 0.4 * (payment == "electronic-check")
        - 0.01 * (age - 46)
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{seed}-{i:06d}" for i in range(n)],
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "total_charges": total,
            "contract": contract,
            "payment_method": payment,
            "internet_service": internet,
            "support_calls": calls,
            "age": np.zeros(n) if drift else age,
            "region": region,
            "paperless_billing": paperless,
            "churned": churned.astype(int),
        }
    )
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


def scored_pair(n: int = 20_000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reference and a drifted current period, both scored by a model trained on the reference."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    reference = churn(n, seed=seed)
    current = churn(n, drift=True, seed=seed + 1)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(encode(reference), reference["churned"])
    for frame in (reference, current):
        frame["churn_score"] = model.predict_proba(encode(frame))[:, 1].round(4)
        frame["churn_predicted"] = (frame["churn_score"] >= 0.5).astype(int)
    return reference, current
