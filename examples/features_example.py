"""One feature definition for training and serving — and what the service sees when serving reimplements one.

Run: ``.venv/bin/python examples/features_example.py`` (about 5 s; everything lives in a temporary directory).

1. ``build_model()`` defines the features once (a FeatureSet), trains a scikit-learn model on them and
   returns the model, the FeatureSet, the held-out validation frame and its ROC AUC.
2. ``main()`` starts an mlwarden server (``BackgroundServer``, SQLite in the temporary directory), registers
   the model and its champion version ``v1`` with the FeatureSet's fingerprint and the offline metrics, and
   uploads the validation features, predictions, scores and labels as the reference (Parquet).
3. Honest serving: an hour of requests whose features come from the *same* FeatureSet, logged with
   ``Warden(url, fingerprint=fs.fingerprint(), model_version="v1")``: no ``skew.fingerprint`` finding, and
   record-level skew against the offline recomputation of the same transactions finds nothing.
4. Broken serving: the next hour comes from a hand-written copy of the features in which
   ``account_age_years`` divides by 365 instead of 365.25. Its batch carries *its* fingerprint, so the server
   stores a critical ``skew.fingerprint`` finding; ``record_skew`` (offline recomputation vs the features
   serving logged) names ``account_age_years``. Both windows are then evaluated (``POST /v1/evaluate``): the
   difference is too small for drift to see, which is why the fingerprint and record-level checks exist.

The server keeps profiles of the logged features, not the rows, so record-level skew runs on serving's own
copy of what it logged (here: the frame handed to ``Warden.log``), as it would on a serving log table.
"""

from __future__ import annotations

import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mlwarden.client import Warden
from mlwarden.features import Feature, FeatureSet, RecordSkewResult, record_skew
from mlwarden.server.background import BackgroundServer
from mlwarden.store import Store

MODEL = "fraud"
VERSION = "v1"
KEY = "transaction_id"
CHANGED = "account_age_years"  # the feature the broken serving pipeline reimplements
COLUMNS = {
    "id": KEY,
    "timestamp": "timestamp",
    "prediction": "prediction",
    "score": "score",
    "target": "fraud",
}
TRAFFIC_ROWS = 2_000  # per served hour; logged as one batch (batch_size below), so one batch per path


def define_features() -> FeatureSet:
    """The feature definitions: the one code path training and (honest) serving share."""
    fs = FeatureSet(name=MODEL)

    @fs.feature(inputs=["amount"])
    def log_amount(amount):
        return np.log1p(amount)

    @fs.feature(inputs={"account_age_days": "int64"}, params={"decimals": 1})
    def account_age_years(account_age_days, decimals):
        return np.round(account_age_days.astype("float64") / 365.25, decimals)

    @fs.feature(inputs={"country": "string"}, dtype="bool", params={"home": ["de", "at", "ch"]})
    def is_domestic(country, home):
        return country.isin(home)

    @fs.feature(inputs={"amount": "float64", "n_items": "int64"})
    def amount_per_item(amount, n_items):
        return amount / n_items.clip(lower=1).astype("float64")

    return fs


def reimplemented_features(training: FeatureSet) -> FeatureSet:
    """Serving's hand-written copy: every feature as in training except ``account_age_years`` (365 days)."""

    def account_age_years(account_age_days, decimals):
        return np.round(account_age_days.astype("float64") / 365, decimals)

    copy = FeatureSet(name=training.name)
    for feature in training:
        copy.add(
            Feature(CHANGED, feature.inputs, feature.dtype, account_age_years, feature.params)
            if feature.name == CHANGED
            else feature
        )
    return copy


def synthetic_transactions(n: int, seed: int, first_id: int = 0) -> pd.DataFrame:
    """Raw transactions with a ``fraud`` label that depends on amount, account age and country."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            KEY: [f"tx{i}" for i in range(first_id, first_id + n)],
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


def build_model(n: int = 20_000, seed: int = 0) -> tuple[LogisticRegression, FeatureSet, pd.DataFrame, float]:
    """Train on FeatureSet features (80 %); returns the model, the FeatureSet, the held-out validation frame
    (features, prediction, score, label) and its ROC AUC."""
    fs = define_features()
    raw = synthetic_transactions(n, seed)
    X = fs.transform(raw).astype("float64")
    train = np.arange(n) < int(0.8 * n)
    model = LogisticRegression(max_iter=1_000).fit(X[train], raw["fraud"][train])
    validation = fs.transform(raw[~train]).assign(**predict(model, X[~train]), fraud=raw["fraud"][~train])
    return model, fs, validation, float(roc_auc_score(validation["fraud"], validation["score"]))


def predict(model: LogisticRegression, X: pd.DataFrame) -> dict[str, np.ndarray]:
    score = model.predict_proba(X.astype("float64"))[:, 1]
    return {"prediction": (score >= 0.5).astype(int), "score": score}


@dataclass(slots=True)
class ServedHour:
    """What one serving pipeline did for an hour of traffic, and what the checks made of it."""

    label: str
    fingerprint: str
    changed: list[str]  # features whose definition differs from training's (one-feature fingerprints)
    window_start: pd.Timestamp
    fingerprint_findings: list[dict[str, Any]]  # skew.fingerprint findings the server stored for the batch
    record_skew: RecordSkewResult  # offline recomputation vs the features serving logged


@dataclass(slots=True)
class Outcome:
    training_fingerprint: str
    honest: ServedHour
    broken: ServedHour
    windows: list[dict[str, Any]]  # GET /v1/models/{name}/windows after evaluation
    window_findings: list[dict[str, Any]]  # findings of the evaluated windows


def serve_hour(
    api: httpx.Client,
    spool: Path,
    label: str,
    model: LogisticRegression,
    training_fs: FeatureSet,
    serving_fs: FeatureSet,
    traffic: pd.DataFrame,
    window_start: pd.Timestamp,
) -> ServedHour:
    """Serve ``traffic`` with ``serving_fs``, log it through the SDK, and check it against training."""
    records = traffic.drop(columns="fraud").to_dict("records")  # what the endpoint receives
    online = pd.DataFrame(serving_fs.transform_records(records))  # what serving computes and logs
    outputs = predict(model, online[training_fs.names])
    stamps = window_start + pd.to_timedelta(np.arange(len(traffic)) * 3_590 // len(traffic), unit="s")
    before = {f["created_at"] for f in fingerprint_findings(api)}
    fingerprint = serving_fs.fingerprint()
    with Warden(
        str(api.base_url),
        fingerprint=fingerprint,
        model_version=VERSION,
        batch_size=TRAFFIC_ROWS,
        spool_dir=spool,
    ) as warden:
        warden.log(MODEL, online, id=traffic[KEY].tolist(), timestamp=stamps.tolist(), **outputs)
        if not warden.flush(timeout=30) or warden.stats.sent != len(traffic):
            raise RuntimeError(f"{label}: the server did not acknowledge every row ({warden.stats})")
    new = [f for f in fingerprint_findings(api) if f["created_at"] not in before]
    offline = training_fs.transform(traffic).assign(**{KEY: traffic[KEY]})  # the feature store's values
    skew = record_skew(offline, online.assign(**{KEY: traffic[KEY]}), key=KEY)
    return ServedHour(label, fingerprint, changed_features(training_fs, serving_fs), window_start, new, skew)


def changed_features(training: FeatureSet, serving: FeatureSet) -> list[str]:
    """Names of the features whose definitions differ, by comparing one-feature fingerprints."""
    return [
        f.name
        for f in serving
        if f.name not in training.names
        or FeatureSet([f]).fingerprint() != FeatureSet([training[f.name]]).fingerprint()
    ]


def fingerprint_findings(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get(f"/v1/models/{MODEL}/findings", params={"check": "skew.fingerprint"})
    return response.raise_for_status().json()


def register(api: httpx.Client, fs: FeatureSet, validation: pd.DataFrame, auc: float) -> None:
    """The model with its owner and columns, champion ``v1`` with its fingerprint, and the reference."""
    api.post(
        "/v1/models",
        json={
            "name": MODEL,
            "team": "payments",
            "owner_name": "Ada",
            "owner_email": "ada@example.com",
            "runbook_url": "https://wiki.example.com/fraud",
            "slos": {"roc_auc": 0.7},
            "columns": COLUMNS,
            "window_seconds": 3_600,
            "grace_seconds": 60,
        },
    ).raise_for_status()
    api.post(
        f"/v1/models/{MODEL}/versions",
        json={
            "version": VERSION,
            "stage": "champion",
            "feature_fingerprint": fs.fingerprint(),
            "offline_metrics": {"roc_auc": auc},
        },
    ).raise_for_status()
    body = io.BytesIO()
    validation.to_parquet(body, index=False)
    api.post(
        f"/v1/models/{MODEL}/reference",
        content=body.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    ).raise_for_status()


def evaluate_windows(api: httpx.Client, starts: list[pd.Timestamp]) -> list[dict[str, Any]]:
    """Evaluate the closed windows now (the scheduler may get there first) and wait until all are done."""
    api.post("/v1/evaluate").raise_for_status()
    wanted = {s.isoformat() for s in starts}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        windows = api.get(f"/v1/models/{MODEL}/windows").raise_for_status().json()
        done = {pd.Timestamp(w["start"]).isoformat() for w in windows if w["status"] == "evaluated"}
        if wanted <= done:
            return windows
        time.sleep(0.1)
    raise RuntimeError(f"windows {sorted(wanted)} were not evaluated within 20 s")


def run(workdir: Path) -> Outcome:
    """The whole walk-through with its store and client spool under ``workdir``; returns what it found."""
    model, fs, validation, auc = build_model()
    broken_fs = reimplemented_features(fs)
    hour = pd.Timestamp.now(tz="UTC").floor("h")
    honest_start, broken_start = hour - pd.Timedelta(hours=3), hour - pd.Timedelta(hours=2)
    with (
        BackgroundServer(Store(str(workdir / "mlwarden.db")), auth=False, evaluate_every=0.5) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        register(api, fs, validation, auc)
        spool = workdir / "spool"
        honest_traffic = synthetic_transactions(TRAFFIC_ROWS, 1)
        honest = serve_hour(api, spool, "same FeatureSet", model, fs, fs, honest_traffic, honest_start)
        broken_traffic = synthetic_transactions(TRAFFIC_ROWS, 2, first_id=TRAFFIC_ROWS)
        broken = serve_hour(
            api, spool, f"reimplemented {CHANGED}", model, fs, broken_fs, broken_traffic, broken_start
        )
        windows = evaluate_windows(api, [honest_start, broken_start])
        findings = api.get(f"/v1/models/{MODEL}/findings").raise_for_status().json()
    window_findings = [f for f in findings if f["window_start"] is not None]
    return Outcome(fs.fingerprint(), honest, broken, windows, window_findings)


def show(outcome: Outcome) -> None:
    print(f"training fingerprint (registered with {MODEL} {VERSION}): {outcome.training_fingerprint}")
    for served in (outcome.honest, outcome.broken):
        print(f"\n== serving with {served.label} (fingerprint {served.fingerprint[:12]})")
        print(f"  server: {len(served.fingerprint_findings)} skew.fingerprint finding(s)")
        for f in served.fingerprint_findings:
            print(f"  {f['severity']:>8} {f['check']:<17} {f['message']}")
        if served.changed:
            print(f"  definitions that differ from training's (one-feature fingerprints): {served.changed}")
        skew = served.record_skew
        findings = skew.findings(model=MODEL)
        print(f"  record_skew over {skew.matched:,} transactions: {len(findings)} finding(s)")
        for f in findings:
            print(f"  {f.severity.value:>8} {f.check:<17} {f.message}")
    print("\n== evaluated windows")
    for window in sorted(outcome.windows, key=lambda w: w["start"]):
        summary = window["summary"] or {}
        drift = ", ".join(f"{c} {s:.3f}" for c, s in sorted(summary.get("drift", {}).items()))
        print(f"  {window['start']}  rows {summary.get('rows')}  drift scores: {drift}")
    for f in sorted(outcome.window_findings, key=lambda f: f["window_start"]):
        print(f"  {f['window_start']} {f['severity']:>8} {f['check']:<17} {f['message']}")
    if not outcome.window_findings:
        print("  no window findings: drift does not see the reimplemented feature")


def main() -> Outcome:
    with tempfile.TemporaryDirectory(prefix="mlwarden-features-") as tmp:
        outcome = run(Path(tmp))
    show(outcome)
    return outcome


if __name__ == "__main__":
    main()
