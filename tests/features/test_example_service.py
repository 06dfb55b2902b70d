"""examples/features_example.py end to end: a real server, the SDK, the fingerprint and record-level skew."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "features_example.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("features_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return _load_example()


@pytest.fixture(scope="module")
def outcome(example):
    return example.main()


def test_honest_serving_has_no_fingerprint_finding_and_no_record_skew(outcome) -> None:
    honest = outcome.honest
    assert honest.fingerprint == outcome.training_fingerprint
    assert honest.fingerprint_findings == []
    assert honest.changed == []
    assert honest.record_skew.matched == 2_000
    assert honest.record_skew.findings() == []


def test_broken_serving_gets_exactly_the_critical_fingerprint_finding(outcome) -> None:
    broken = outcome.broken
    assert broken.fingerprint != outcome.training_fingerprint
    [finding] = broken.fingerprint_findings
    assert finding["check"] == "skew.fingerprint" and finding["severity"] == "critical"
    assert finding["model"] == "fraud"
    evidence = finding["evidence"]
    assert (evidence["expected"], evidence["got"]) == (outcome.training_fingerprint, broken.fingerprint)
    assert evidence["model_version"] == "v1" and evidence["batch_id"]
    assert finding["window_start"] is not None  # filed under the batch's window, so time filters find it
    assert f"{broken.fingerprint[:12]} != {outcome.training_fingerprint[:12]}" in finding["message"]
    assert broken.changed == ["account_age_years"]


def test_record_skew_names_the_reimplemented_feature(outcome) -> None:
    skew = outcome.broken.record_skew
    assert skew.matched == 2_000 and skew.offline_only == skew.online_only == 0
    [finding] = skew.findings(model="fraud")
    assert finding.check == "skew.record" and finding.column == "account_age_years"
    assert finding.severity.value == "critical"  # 365 vs 365.25 days changes the rounded years of ~3 %
    assert 0.01 <= skew["account_age_years"].mismatch_rate < 0.1
    assert skew["account_age_years"].max_abs_diff == pytest.approx(0.1)
    assert all(skew[name].mismatches == 0 for name in ("log_amount", "is_domestic", "amount_per_item"))


def test_both_windows_are_evaluated_and_drift_misses_the_change(outcome) -> None:
    starts = {outcome.honest.window_start.isoformat(), outcome.broken.window_start.isoformat()}
    evaluated = {w["start"]: w["summary"] for w in outcome.windows if w["status"] == "evaluated"}
    assert starts <= set(evaluated)
    assert all(evaluated[s]["rows"] == 2_000 and evaluated[s]["evaluated"] for s in starts)
    assert not [f for f in outcome.window_findings if f["column"] == "account_age_years"]


def test_reimplemented_feature_set_differs_only_in_that_feature(example) -> None:
    fs = example.define_features()
    broken = example.reimplemented_features(fs)
    assert broken.names == fs.names
    assert example.changed_features(fs, broken) == ["account_age_years"]
    assert example.changed_features(fs, example.define_features()) == []
