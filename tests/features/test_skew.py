"""Distributional skew: the drift engine with thresholds half of drift's."""

import numpy as np
import pandas as pd
import pytest

from mlwarden.drift import DriftConfig, detect_drift
from mlwarden.errors import InputError
from mlwarden.features import SKEW_THRESHOLDS, SkewConfig, check_skew
from mlwarden.findings import Severity
from mlwarden.profile import profile


@pytest.fixture(scope="module")
def training():
    rng = np.random.default_rng(0)
    n = 40_000
    return pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, n),
            "age": rng.normal(40, 10, n),
            "country": rng.choice(["de", "fr", "it", "es"], n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def serving_like(training, seed):
    return training.sample(n=20_000, random_state=seed).reset_index(drop=True)


def test_thresholds_are_half_of_drift():
    defaults = DriftConfig().thresholds
    assert SKEW_THRESHOLDS["wasserstein"] == defaults["wasserstein"] / 2
    assert SKEW_THRESHOLDS["jensenshannon"] == defaults["jensenshannon"] / 2
    assert SKEW_THRESHOLDS["chi2"] == defaults["chi2"]


def test_same_pipeline_has_no_skew(training):
    assert check_skew(training, serving_like(training, 1)) == []


def test_small_skew_that_drift_tolerates_is_flagged(training):
    serving = serving_like(training, 2)
    serving["age"] = serving["age"] + 0.4  # 0.04 sd: below drift's 0.05, above skew's 0.025
    ref = profile(training)
    assert not detect_drift(ref, profile(serving, reference=ref))["age"].drifted
    findings = check_skew(training, serving)
    skew = [f for f in findings if f.check == "skew"]
    assert [f.column for f in skew] == ["age"] and skew[0].severity is Severity.WARNING
    assert skew[0].threshold == pytest.approx(0.025)


def test_large_skew_is_critical_and_profiles_work(training):
    serving = serving_like(training, 3)
    serving["amount"] = np.log1p(serving["amount"])  # serving forgot to undo a transform
    serving["country"] = serving["country"].str.upper()
    findings = check_skew(profile(training), serving)
    by_check = {(f.check, f.column): f for f in findings}
    assert by_check[("skew", "amount")].severity is Severity.CRITICAL
    assert by_check[("skew", "country")].severity is Severity.CRITICAL
    assert ("skew.unseen_categories", "country") in by_check
    assert all(f.column != "age" for f in findings if f.check == "skew")


def test_missing_and_retyped_columns(training):
    serving = serving_like(training, 4).drop(columns="age").assign(amount=lambda d: d["amount"].astype(str))
    checks = {(f.check, f.column, f.severity) for f in check_skew(training, serving)}
    assert ("skew.missing_column", "age", Severity.CRITICAL) in checks
    assert ("skew.kind_mismatch", "amount", Severity.CRITICAL) in checks


def test_config_and_input_errors(training):
    serving = serving_like(training, 5)
    serving["age"] = serving["age"] + 0.4
    assert check_skew(training, serving, config=SkewConfig(thresholds={"wasserstein": 0.05})) == []
    assert check_skew(training, serving, config=SkewConfig(columns=["amount"])) == []
    with pytest.raises(InputError, match="serving: expected a DataFrame"):
        check_skew(training, [1, 2])
    with pytest.raises(InputError, match="critical_factor"):
        SkewConfig(critical_factor=0.5)
