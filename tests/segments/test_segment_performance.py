"""Performance per segment is decided jointly: one Holm correction over every segment × kind × metric
comparison, a finding needing both its effect and its adjusted evidence (docs/segments.md)."""

import numpy as np
import pandas as pd
import pytest
from segment_data import population
from service_data import broken_pro, reference_frame

import mlwarden as mw
from mlwarden.drift.multiple_testing import holm
from mlwarden.performance import PerformanceTest, decide_jointly
from mlwarden.performance.findings import decide_alone, performance_tests


def alarms(findings):
    return [f for f in findings if f.check.startswith("performance") and f.severity != "info"]


def test_holm_adjusts_as_the_step_down_procedure():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> running max 0.06
    adjusted = holm([0.01, 0.04, 0.03, 0.005, np.nan])
    assert adjusted[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(adjusted[4])
    assert holm([0.6, 0.9]).tolist() == [1.0, 1.0]


def drop(z: float, metric: str = "f1") -> PerformanceTest:
    return PerformanceTest("realized", metric, "drop", 0.6, 0.65, effect=True, z=z, reference=0.7)


def test_a_drop_that_one_segment_alone_would_raise_is_weighed_against_every_segment():
    quiet = [[drop(-0.5, m) for m in ("roc_auc", "accuracy", "precision", "recall")] for _ in range(20)]
    family = [*quiet, [drop(3.0)], [drop(6.0)]]
    assert len(decide_alone(family[-2])) == 1  # z 3.0 > 2.576: the whole data's rule would raise it
    findings, notes = decide_jointly(family)
    assert findings[-2] == [] and not any(findings[:-2])  # p 0.00135 x 82 tests: not significant
    (flagged,) = findings[-1]
    assert flagged.severity == "warning" and flagged.evidence["metric"] == "f1"
    assert flagged.evidence["p_adjusted"] == pytest.approx(82 * flagged.evidence["p_value"])
    assert notes == [[]] * 22


def test_an_slo_breach_needs_evidence_too_and_without_a_band_is_noted():
    thin = performance_tests(
        "realized", {"roc_auc": 0.74, "roc_auc_lower": 0.6, "roc_auc_upper": 0.88}, slo={"roc_auc": 0.75}
    )
    clear = performance_tests(
        "realized", {"roc_auc": 0.5, "roc_auc_lower": 0.47, "roc_auc_upper": 0.53}, slo={"roc_auc": 0.75}
    )
    unbounded = performance_tests("realized", {"f1": 0.3}, slo={"f1": 0.5})  # a multiclass macro F1
    assert [t.effect for t in (*thin, *clear, *unbounded)] == [True, True, True]
    findings, notes = decide_jointly([thin, clear, unbounded])
    assert findings[0] == [] and findings[2] == []
    assert [(f.severity, f.threshold) for f in findings[1]] == [("critical", 0.75)]
    assert notes[2] == [
        "realized f1 0.300: beyond its SLO but without a standard error to weigh it against the segment's "
        "size: not judged"
    ]
    assert [f.severity for f in decide_alone(thin)] == ["critical"]  # the whole data: the limit alone


@pytest.mark.parametrize("seed", [2, 4, 6])
def test_only_the_broken_ten_percent_segment_is_flagged(seed: int):
    reference, current = population(20_000, seed + 1), population(20_000, seed + 2, broken="FR")
    report = mw.compare(
        reference, current, target="y", score="score", prediction="pred", segments=["country"]
    )
    flagged = {f.segment for f in report.findings if f.severity != "info" and f.segment is not None}
    assert flagged == {"country=FR"}
    fr = report.segments[0]
    assert fr.segment == "country=FR" and fr.drift.drifted_features == ["x3"]
    metrics = {f.evidence["metric"] for f in alarms(fr.findings) if f.check == "performance.realized"}
    assert {"roc_auc", "accuracy"} <= metrics
    assert all(f.evidence["p_adjusted"] < 0.005 for f in alarms(fr.findings))


def test_an_unaffected_segments_chance_precision_drop_is_not_a_finding():
    # plan=plus: realized precision 0.667 against 0.751 on the reference (3.5 standard errors) by chance;
    # decided alone it was a warning, with F1's beside it
    report = mw.compare(
        reference_frame(6_000),
        broken_pro(4_000, seed=3),
        target="label",
        prediction="prediction",
        score="score",
        segments=["plan"],
    )
    plus = next(s for s in report.segments if s.segment == "plan=plus")
    assert plus.performance["realized"]["precision"] == pytest.approx(0.6667, abs=1e-4)
    assert {f.segment for f in alarms(report.findings)} == {"plan=pro", None}


def test_no_change_in_twenty_segments_raises_no_more_performance_alarms_than_the_aggregate():
    rng = np.random.default_rng(21)

    def frame(n: int) -> pd.DataFrame:
        df = pd.DataFrame({f"c{i}": rng.normal(size=n) for i in range(20)})
        df["seg"] = rng.choice([f"s{i:02d}" for i in range(20)], n)
        score = 1 / (1 + np.exp(-(df["c0"] + 0.8 * df["c1"] - 0.5 * df["c2"]).to_numpy()))
        df["y"] = (rng.random(n) < score).astype(int)
        df["score"], df["pred"] = score, (score > 0.5).astype(int)
        return df

    outputs = {"target": "y", "prediction": "pred", "score": "score"}
    for _ in range(3):
        reference, current = frame(20_000), frame(20_000)
        alone = mw.compare(reference.drop(columns="seg"), current.drop(columns="seg"), **outputs)
        split = mw.compare(reference, current, segments=["seg"], **outputs)
        assert len(split.segments) == 20
        in_segments = [f for s in split.segments for f in s.findings if f.severity != "info"]
        assert len(alarms(in_segments)) <= len(alarms(alone.findings))
        assert not [f for f in in_segments if f.check == "drift"]
