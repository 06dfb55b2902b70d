"""Leakage: target leakage, point-in-time, contamination, identifiers — and silence on clean data."""


import numpy as np
import pandas as pd
import pytest

from mlwarden.errors import InputError
from mlwarden.features import LeakageConfig, check_leakage, leakage_report
from mlwarden.findings import Severity


def clean_dataset(n=20_000, seed=0) -> pd.DataFrame:
    """Churn-like data: correlated, honestly predictive features; times before the prediction time."""
    rng = np.random.default_rng(seed)
    customers = rng.integers(0, n // 4, n)
    tenure = rng.gamma(2.0, 12.0, n)
    usage = 0.6 * np.log1p(tenure) + rng.normal(size=n)
    support = rng.poisson(np.exp(0.3 - 0.2 * usage))
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    logit = -1.2 * usage + 0.5 * support + np.where(plan == "basic", 0.4, -0.2) + rng.normal(0, 0.3, n)
    churned = (rng.random(n) < 1 / (1 + np.exp(-(logit - 0.5)))).astype(int)
    predicted_at = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h")
    frame = pd.DataFrame(
        {
            "customer": customers,
            "tenure": tenure,
            "usage": usage,
            "usage_2": usage + rng.normal(0, 0.5, n),
            "support_calls": support,
            "plan": plan,
            "region": rng.choice([f"r{i}" for i in range(40)], n),
            "monthly_fee": np.where(plan == "basic", 10.0, np.where(plan == "plus", 20.0, 35.0)),
            "predicted_at": predicted_at,
            "usage_updated_at": predicted_at - pd.to_timedelta(rng.integers(1, 72 * 60, n), unit="min"),
            "churned": churned,
        }
    )
    for i in range(8):  # weak and noise features, to reach a realistic width
        frame[f"x{i}"] = rng.normal(size=n) + (0.1 * usage if i < 3 else 0)
    frame["split"] = np.where(customers % 5 == 0, "test", "train")  # split by customer: no shared ids
    return frame


@pytest.fixture(scope="module")
def clean():
    return clean_dataset()


def test_no_findings_on_clean_data(clean):
    report = leakage_report(clean, target="churned", time="predicted_at", split="split", id_column="customer")
    assert report.findings == [], [f.message for f in report.findings]
    scores = {s.column: s.score for s in report.scores}
    assert 0.7 < scores["usage"] < 0.9  # honestly predictive, and not flagged
    assert report.feature_time_columns == ["usage_updated_at"] and report.metric == "roc_auc"


def test_target_leakage_is_critical(clean):
    rng = np.random.default_rng(1)
    data = clean.assign(
        refund_issued=clean["churned"] * rng.random(len(clean)) + 0.001 * rng.random(len(clean))
    )
    findings = check_leakage(data, target="churned")
    target = [f for f in findings if f.check == "leakage.target"]
    assert [(f.column, f.severity) for f in target] == [("refund_issued", Severity.CRITICAL)]
    assert target[0].value >= 0.98 and "refund_issued" in target[0].message


def test_feature_far_above_the_rest_warns(clean):
    rng = np.random.default_rng(2)
    # right most of the time, but not always: a strong proxy of the label
    proxy = np.where(rng.random(len(clean)) < 0.965, clean["churned"], 1 - clean["churned"]) + rng.normal(
        0, 0.1, len(clean)
    )
    findings = check_leakage(
        clean.assign(proxy=proxy), target="churned", config=LeakageConfig(max_rows=8_000)
    )
    target = [f for f in findings if f.check == "leakage.target"]
    assert [(f.column, f.severity) for f in target] == [("proxy", Severity.WARNING)]
    assert 0.95 <= target[0].value < 0.98


def test_regression_and_multiclass_targets(clean):
    rng = np.random.default_rng(3)
    data = clean.assign(revenue=clean["tenure"] * 3 + rng.normal(size=len(clean)))
    data["revenue_copy"] = data["revenue"] * 1.01
    report = leakage_report(
        data.drop(columns="churned"), target="revenue", config=LeakageConfig(max_rows=6_000)
    )
    assert report.task == "regression" and report.metric == "r2"
    assert {f.column for f in report.findings if f.check == "leakage.target"} == {"revenue_copy", "tenure"}
    report = leakage_report(
        clean.drop(columns="churned"), target="plan", config=LeakageConfig(max_rows=6_000)
    )
    assert report.task == "classification"
    assert {f.column for f in report.findings if f.check == "leakage.target"} == {"monthly_fee"}


def test_point_in_time_violations(clean):
    data = clean.copy()
    late = data.index[:40]
    data.loc[late, "usage_updated_at"] = data.loc[late, "predicted_at"] + pd.Timedelta(hours=2)
    data["balance_at"] = (data["predicted_at"] - pd.Timedelta(days=1)).dt.strftime("%Y-%m-%dT%H:%M:%S")
    findings = check_leakage(data, target="churned", time="predicted_at", id_column="customer")
    pit = [f for f in findings if f.check == "leakage.point_in_time"]
    assert [(f.column, f.severity) for f in pit] == [("usage_updated_at", Severity.CRITICAL)]
    assert pit[0].evidence["rows"] == 40 and pit[0].value == pytest.approx(40 / len(data))
    assert pit[0].evidence["examples"][0]["customer"] == int(data.loc[0, "customer"])
    explicit = check_leakage(
        data,
        target="churned",
        time="predicted_at",
        feature_time_columns=["balance_at"],
        config=LeakageConfig(target_leakage=False),
    )
    assert explicit == []


def test_contamination_rows_and_ids(clean):
    train = clean[clean["split"] == "train"]
    copied = train.head(200).assign(split="test")
    data = pd.concat([clean, copied], ignore_index=True)
    findings = check_leakage(
        data,
        target="churned",
        split="split",
        id_column="customer",
        config=LeakageConfig(target_leakage=False),
    )
    kinds = {f.evidence["kind"]: f for f in findings if f.check == "leakage.contamination"}
    assert kinds["rows"].severity is Severity.CRITICAL and kinds["rows"].evidence["rows"] == 400
    assert kinds["rows"].evidence["per_split"] == {"test": 200, "train": 200}
    assert kinds["ids"].evidence["ids"] == train.head(200)["customer"].nunique()


def test_natural_duplicates_of_low_cardinality_features_are_not_contamination():
    rng = np.random.default_rng(4)
    n = 5_000
    data = pd.DataFrame(
        {"a": rng.integers(0, 3, n), "b": rng.choice(["x", "y"], n), "y": rng.integers(0, 2, n)}
    )
    data["split"] = np.where(rng.random(n) < 0.8, "train", "test")
    assert check_leakage(data, target="y", split="split") == []


def test_identifier_columns_warn(clean):
    data = clean.assign(row_id=np.arange(len(clean)), ticket=[f"T{i:06d}" for i in range(len(clean))])
    findings = check_leakage(data, target="churned", config=LeakageConfig(target_leakage=False))
    assert {(f.check, f.column, f.severity) for f in findings} == {
        ("leakage.identifier", "row_id", Severity.WARNING),
        ("leakage.identifier", "ticket", Severity.WARNING),
    }


def test_bad_input(clean):
    with pytest.raises(InputError, match="no target column 'nope'"):
        check_leakage(clean, target="nope")
    with pytest.raises(InputError, match="no split column 'part'"):
        check_leakage(clean, target="churned", split="part")
    with pytest.raises(InputError, match="need the prediction time column"):
        check_leakage(clean, target="churned", feature_time_columns=["usage_updated_at"])
    with pytest.raises(InputError, match="column 'tenure' must hold timestamps"):
        check_leakage(clean, target="churned", time="tenure")
