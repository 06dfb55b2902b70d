"""Checks per segment: the done-when scenario (drift and a performance drop in one 10 % segment), unseen
segments, per-segment SLOs, the JSON shape of DESIGN §9, and no extra false alarms from segments."""

import numpy as np
import pandas as pd
import pytest
from segment_data import population

import mlwarden as mw
from mlwarden.errors import InputError
from mlwarden.schema.config import ModelConfig


@pytest.fixture(scope="module")
def broken_report():
    reference, current = population(30_000, 1), population(30_000, 2, broken="FR")
    return mw.compare(reference, current, target="y", score="score", prediction="pred", segments=["country"])


def serious(findings):
    return [f for f in findings if f.severity != "info"]


def test_only_the_broken_segment_is_flagged_for_drift_and_performance(broken_report):
    report = broken_report
    aggregate = serious(f for f in report.findings if f.segment is None)
    assert all(f.severity == "warning" for f in aggregate)  # quiet or weak
    assert not [f for f in aggregate if f.check.startswith("performance")]
    flagged = {f.segment for f in serious(report.findings) if f.segment is not None}
    assert flagged == {"country=FR"}
    fr = report.segments[0]  # worst first
    assert fr.segment == "country=FR" and fr.column == "country" and fr.value == "FR"
    assert [c.column for c in fr.drift.features if c.drifted] == ["x3"]
    assert fr.drift.multivariate is None
    checks = {f.check for f in serious(fr.findings)}
    assert "drift" in checks and "performance.realized" in checks
    assert fr.performance["realized"]["roc_auc"] == pytest.approx(0.5, abs=0.05)
    assert all(not serious(s.findings) for s in report.segments[1:])
    assert "country" not in [c.column for c in fr.drift.columns]  # constant inside its own segment


def test_json_has_the_segments_list_of_design_9(broken_report):
    import json

    data = json.loads(broken_report.to_json())
    assert len(data["segments"]) == 10
    first = data["segments"][0]
    assert set(first) >= {"segment", "column", "value", "rows", "drift", "performance", "findings"}
    assert first["segment"] == "country=FR"
    assert first["rows"]["reference"] > 2_500 and first["rows"]["current"] > 2_500
    assert all(f["segment"] == "country=FR" for f in first["findings"])
    assert any(f["segment"] == "country=FR" for f in data["findings"])
    assert "segments" not in json.loads(mw.compare(population(500, 1), population(500, 2)).to_json())


def test_a_segment_unseen_in_the_reference_is_a_finding():
    reference = population(5_000, 1)
    current = population(5_000, 2)
    current.loc[current.index[:300], "country"] = "BR"
    report = mw.compare(reference, current, segments=["country"])
    unseen = [f for f in report.findings if f.check == "segment.unseen"]
    assert len(unseen) == 1 and unseen[0].segment == "country=BR" and unseen[0].value == pytest.approx(0.06)
    entry = next(s for s in report.segments if s.segment == "country=BR")
    assert entry.drift is None and entry.rows == {"reference": 0, "current": 300}


def test_values_a_capped_reference_pooled_are_not_unseen_segments():
    # 200 equally likely cities: each side keeps its own 50 most frequent ones by chance; a city the
    # reference pooled into (other) is not a segment it lacks (before: 39 segment.unseen warnings)
    rng = np.random.default_rng(12)
    cities = [f"c{i:03d}" for i in range(200)]

    def frame(n):
        return pd.DataFrame({"x": rng.normal(size=n), "city": rng.choice(cities, n)})

    reference, current = frame(20_000), frame(5_000)
    report = mw.compare(reference, current, segments=["city"])
    assert serious(report.findings) == []
    kept = set(report.reference.segments["city"].rows())
    assert len(kept) == 51 and "(other)" in kept
    assert set(report.current.segments["city"].rows()) <= kept  # split as the reference was
    other = next(s for s in report.segments if s.value == "(other)")
    assert other.rows["current"] == (~current["city"].isin(kept)).sum()


def test_slo_per_segment_from_the_config(tmp_path):
    config = ModelConfig.from_dict(
        {"slo": {"roc_auc": {"min": 0.6, "segments": {"country=FR": 0.75, "*": 0.55}}}}
    )
    assert config.slo_limits() == {"roc_auc": 0.6}
    assert config.segment_slo_limits() == {"country=FR": {"roc_auc": 0.75}, "*": {"roc_auc": 0.55}}
    reference, current = population(20_000, 1), population(20_000, 2, broken="FR")
    report = mw.compare(
        reference,
        current,
        target="y",
        score="score",
        segments=["country"],
        slo=config.slo_limits(),
        segment_slo=config.segment_slo_limits(),
    )
    critical = [f for f in report.findings if f.severity == "critical" and f.check.startswith("performance")]
    assert {(f.segment, f.threshold) for f in critical} == {("country=FR", 0.75)}


def test_no_drift_in_twenty_segments_raises_no_false_alarm():
    rng = np.random.default_rng(11)

    def frame(n):
        df = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(10)})
        df["seg"] = rng.choice([f"s{i}" for i in range(20)], n)
        return df

    report = mw.compare(frame(40_000), frame(40_000), segments=["seg"])
    assert len(report.segments) == 20
    assert not [f for f in report.findings if f.check == "drift" and f.severity != "info"]


def test_a_saved_profile_without_the_split_is_named(tmp_path):
    reference = population(2_000, 1)
    path = tmp_path / "ref.mwp"
    mw.profile(reference).save(path)
    with pytest.raises(InputError, match="reference profile has no segments for 'country'"):
        mw.compare(path, population(2_000, 2), segments=["country"])
    mw.profile(reference, segments=["country"]).save(path)
    report = mw.compare(path, population(2_000, 2), segments=["country"])
    assert len(report.segments) == 10
