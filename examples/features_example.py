"""One feature definition for training and serving — and what happens when serving reimplements one.

Run: ``.venv/bin/python examples/features_example.py``

1. ``build_model()`` defines the features once (a FeatureSet), trains a scikit-learn model on them, and
   returns the model, the FeatureSet and its fingerprint (what the service registers).
2. Serving computes features for incoming JSON records with the *same* FeatureSet: the fingerprint
   matches and record-level skew finds nothing.
3. A "broken" serving pipeline reimplements ``log_amount`` with ``log`` instead of ``log1p`` and rounds
   ``account_age_years`` differently: the fingerprint differs (``skew.fingerprint``) and record-level skew
   names both features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from mlwarden.features import FeatureSet, fingerprint_finding, record_skew
from mlwarden.findings import Finding


def define_features(amount_fn=np.log1p, age_decimals: int = 1) -> FeatureSet:
    """The feature definitions; the defaults are training's, the arguments let serving go wrong."""
    fs = FeatureSet(name="fraud")

    @fs.feature(inputs=["amount"])
    def log_amount(amount):
        return amount_fn(amount)

    @fs.feature(inputs={"account_age_days": "int64"}, params={"decimals": age_decimals})
    def account_age_years(account_age_days, decimals):
        return np.round(account_age_days.astype("float64") / 365.25, decimals)

    @fs.feature(inputs={"country": "string"}, dtype="bool", params={"home": ["de", "at", "ch"]})
    def is_domestic(country, home):
        return country.isin(home)

    @fs.feature(inputs={"amount": "float64", "n_items": "int64"})
    def amount_per_item(amount, n_items):
        return amount / n_items.clip(lower=1).astype("float64")

    return fs


def synthetic_transactions(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "transaction_id": np.arange(n),
            "amount": np.round(rng.lognormal(3.5, 1.2, n), 2),
            "account_age_days": rng.integers(0, 3_000, n),
            "country": rng.choice(["de", "at", "ch", "fr", "us", "br"], n, p=[0.5, 0.1, 0.1, 0.1, 0.1, 0.1]),
            "n_items": rng.integers(1, 8, n),
        }
    )
    logit = 0.8 * (np.log1p(data["amount"]) - 3.5) - data["account_age_days"] / 800
    logit += np.where(data["country"].isin(["de", "at", "ch"]), -1.0, 0.7)
    data["fraud"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return data


def build_model(n: int = 20_000, seed: int = 0) -> tuple[LogisticRegression, FeatureSet, str]:
    """Train on FeatureSet features; returns the model, the FeatureSet and its fingerprint."""
    fs = define_features()
    raw = synthetic_transactions(n, seed)
    X = fs.transform(raw)
    model = LogisticRegression(max_iter=1_000).fit(X.astype("float64"), raw["fraud"])
    return model, fs, fs.fingerprint()


def serve(model: LogisticRegression, fs: FeatureSet, records: list[dict]) -> pd.DataFrame:
    """What a serving endpoint does: features of the JSON records, then scores."""
    features = pd.DataFrame(fs.transform_records(records))
    return features.assign(score=model.predict_proba(features[fs.names].astype("float64"))[:, 1])


def compare(
    label: str, fingerprint: str, offline: pd.DataFrame, served: pd.DataFrame, serving_fs: FeatureSet
) -> None:
    findings: list[Finding] = []
    finding = fingerprint_finding(fingerprint, serving_fs.fingerprint(), model="fraud")
    if finding is not None:
        findings.append(finding)
    findings += record_skew(offline, served, key="transaction_id", columns=serving_fs.names).findings(
        model="fraud"
    )
    print(f"\n== {label}: {len(findings)} finding(s)")
    for f in findings:
        print(f"  {f.severity.value:>8} {f.check:<18} {f.message}")


def main() -> None:
    model, fs, fingerprint = build_model()
    print(f"trained on {len(fs)} features {fs.names}")
    print(f"feature fingerprint: {fingerprint}")

    traffic = synthetic_transactions(2_000, seed=1)
    records = traffic.drop(columns="fraud").to_dict("records")
    offline = fs.transform(traffic).assign(transaction_id=traffic["transaction_id"])  # logged for training

    served = serve(model, fs, records).assign(transaction_id=traffic["transaction_id"])
    print(f"served {len(served)} records, mean score {served['score'].mean():.3f}")
    compare("same FeatureSet in serving", fingerprint, offline, served, fs)

    broken_fs = define_features(amount_fn=np.log, age_decimals=0)  # log instead of log1p; coarser rounding
    broken = serve(model, broken_fs, records).assign(transaction_id=traffic["transaction_id"])
    compare("serving reimplemented two features", fingerprint, offline, broken, broken_fs)


if __name__ == "__main__":
    main()
