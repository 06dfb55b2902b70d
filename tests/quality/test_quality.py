"""Silent failures are caught on the first window, with a critical finding naming the cause."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mlwarden as mw
from mlwarden.quality import check_data_quality, check_output


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(0)
    n = 10_000
    x = rng.normal(size=n)
    score = 1 / (1 + np.exp(-2 * x))
    return pd.DataFrame(
        {
            "x": x,
            "z": rng.normal(5, 2, n),
            "c": rng.choice(list("abc"), n),
            "score": score,
            "pred": np.where(score > 0.5, "yes", "no"),
        }
    )


def findings(reference, current, **kw):
    ref = mw.profile(reference)
    cur = mw.profile(current, reference=ref)
    outputs = ("pred", "score")
    return check_data_quality(ref, cur, exclude=outputs) + check_output(
        ref, cur, prediction="pred", scores=["score"]
    )


def test_clean_window_has_no_findings(reference):
    assert findings(reference, reference.sample(2_000, random_state=1)) == []


def critical(found):
    return {(f.check, f.column) for f in found if f.severity == "critical"}


def test_feature_pipeline_returning_zeros(reference):
    assert ("quality.constant", "z") in critical(findings(reference, reference.assign(z=0.0).iloc[:500]))


def test_scores_stuck_at_half(reference):
    found = findings(reference, reference.assign(score=0.5).iloc[:500])
    assert ("output.score_stuck", "score") in critical(found)


def test_constant_prediction(reference):
    assert ("output.constant_prediction", "pred") in critical(
        findings(reference, reference.assign(pred="no")[:500])
    )


def test_bad_scores(reference):
    bad = reference.iloc[:500].copy()
    bad.loc[bad.index[:10], "score"] = np.nan
    bad.loc[bad.index[10:20], "score"] = 1.7
    found = critical(findings(reference, bad))
    assert ("output.score_nonfinite", "score") in found and ("output.score_range", "score") in found


def test_missing_rate_jump_and_empty_column(reference):
    cur = reference.iloc[:1000].copy()
    cur.loc[cur.index[:300], "x"] = np.nan
    found = findings(reference, cur)
    jump = [f for f in found if f.check == "quality.missing_rate"]
    assert (
        jump
        and jump[0].column == "x"
        and jump[0].severity == "warning"
        and jump[0].value == pytest.approx(0.3)
    )
    assert ("quality.missing_rate", "c") in critical(findings(reference, reference.iloc[:100].assign(c=None)))


def test_class_balance_out_of_bounds(reference):
    cur = reference.iloc[:2000].copy()
    cur.loc[cur.index[:1500], "pred"] = "yes"
    assert any(f.check == "output.class_balance" for f in findings(reference, cur))


def test_infinite_values_and_out_of_range(reference):
    cur = reference.iloc[:1000].copy()
    cur.loc[cur.index[:50], "x"] = np.inf
    cur.loc[cur.index[50:100], "z"] = 1e6
    checks = {(f.check, f.column) for f in findings(reference, cur)}
    assert ("quality.nonfinite", "x") in checks and ("quality.out_of_range", "z") in checks


def out_of_range(reference, current):
    ref = mw.profile(reference)
    found = check_data_quality(ref, mw.profile(current, reference=ref))
    return [f for f in found if f.check == "quality.out_of_range"]


def test_out_of_range_counts_and_triggers_on_the_same_exact_range(reference):
    """Values just beyond the reference's max (within a widened range) count, and alone trigger."""
    ref = reference[["z"]]
    top = ref["z"].max()
    cur = ref.sample(1_000, random_state=2).reset_index(drop=True)
    cur.loc[:29, "z"] = top + 1e-3  # 3 % just above the exact max, nothing far away
    (found,) = out_of_range(ref, cur)
    assert found.value == pytest.approx(0.03) and found.evidence["outside"] == 30
    assert found.evidence["reference_max"] == top and found.threshold == pytest.approx(0.01)
    cur.loc[:29, "z"] = ref["z"].median()
    cur.loc[0, "z"] = 1e9  # one far outlier: 0.1 % of values, below the 1 % floor
    assert out_of_range(ref, cur) == []


def test_out_of_range_allows_for_chance_with_a_small_reference():
    """Of 5,000 fresh values from the distribution of a 40-value reference, several % fall outside its range
    by chance (Beta(2, 39): 4.9 % on average); that is no finding — but a real shift still is."""
    rng = np.random.default_rng(8)
    ref = pd.DataFrame({"v": rng.normal(size=40)})
    cur = pd.DataFrame({"v": rng.normal(size=5_000)})
    share = float(((cur["v"] < ref["v"].min()) | (cur["v"] > ref["v"].max())).mean())
    assert share > 0.05  # far beyond the 1 % floor: the old rule would have fired
    assert out_of_range(ref, cur) == []
    (found,) = out_of_range(ref, cur.assign(v=cur["v"] + 3))
    assert found.value > 0.5 and found.evidence["chance_share"] == pytest.approx(2 / 41)


def test_chance_p_values_are_fishers_exact_test():
    from scipy.stats import fisher_exact

    from mlwarden.quality.data_quality import excess_p_value

    expected = fisher_exact([[7, 93], [0, 400]], alternative="greater").pvalue
    assert excess_p_value(0, 400, 7, 100) == pytest.approx(expected)
    assert excess_p_value(3, 400, 0, 100) == 1.0


def test_a_mostly_zero_pixel_that_is_all_zero_in_one_half_is_not_constant():
    """digits-like: a pixel non-zero in 1 % of images. One half holding none of the non-zero values is what
    chance does (p ≈ 2⁻⁹ for one half of 9 values), not a collapsed pipeline."""
    ref = pd.DataFrame({"pixel": np.r_[np.zeros(890), np.arange(1.0, 10.0)]})
    cur = pd.DataFrame({"pixel": np.zeros(898)})
    assert not [f for f in quality(ref, cur) if f.check == "quality.constant"]
    collapsed = pd.DataFrame({"pixel": np.r_[np.zeros(400), np.linspace(1, 16, 500)]})
    assert ("quality.constant", "pixel") in critical(quality(collapsed, cur))


def quality(reference, current):
    ref = mw.profile(reference)
    return check_data_quality(ref, mw.profile(current, reference=ref))


def test_out_of_range_uses_the_beta_binomial_tail_and_holds_with_ties():
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({"k": rng.integers(0, 17, 90).astype(float)})  # 17 tied values, 90 rows
    cur = pd.DataFrame({"k": rng.integers(0, 17, 90).astype(float)})
    assert not [f for f in quality(ref, cur) if f.check == "quality.out_of_range"]
    far = cur.assign(k=np.r_[np.full(20, 40.0), cur["k"].to_numpy()[20:]])
    (found,) = [f for f in quality(ref, far) if f.check == "quality.out_of_range"]
    assert found.evidence["outside"] == 20
    assert found.evidence["p_value"] == pytest.approx(stats.betabinom.sf(19, 90, 2, 89))


def test_missing_rate_needs_more_than_chance_at_small_n():
    ref = pd.DataFrame({"x": np.arange(100.0)})
    cur = pd.DataFrame({"x": [np.nan, *range(9)]})  # 10 % missing in 10 rows: p = 10/110
    assert not [f for f in quality(ref, cur) if f.check == "quality.missing_rate"]
    empty = pd.DataFrame({"x": [None] * 200})
    (found,) = [f for f in quality(ref, empty) if f.check == "quality.missing_rate"]
    assert found.severity == "critical" and found.evidence["p_value"] == pytest.approx(
        stats.hypergeom.sf(199, 300, 200, 200)
    )


def test_a_unit_change_is_a_shift_not_a_constant_column():
    """breast cancer's `mean area` ÷ 100 (a unit change): its std falls to 1 % of the reference's but its
    coefficient of variation (scipy.stats.variation) is unchanged — drift and out-of-range report it, not
    "became constant". A column stuck near one value (std 0.1 around 654.9) still is."""
    from sklearn.datasets import load_breast_cancer

    area = load_breast_cancer(as_frame=True).frame["mean area"].to_numpy()
    ref, cur = pd.DataFrame({"area": area[::2]}), pd.DataFrame({"area": area[1::2] / 100})
    assert stats.variation(cur["area"]) == pytest.approx(stats.variation(area[1::2]))
    assert cur["area"].std() / ref["area"].std() < 0.01  # the std-ratio rule alone would fire
    found = quality(ref, cur)
    assert ("quality.out_of_range", "area") in {(f.check, f.column) for f in found}
    assert not [f for f in found if f.check == "quality.constant"]
    stuck = pd.DataFrame({"area": 654.9 + np.random.default_rng(3).normal(0, 0.1, 284)})
    assert ("quality.constant", "area") in critical(quality(ref, stuck))


def test_a_later_window_of_timestamps_is_not_out_of_range():
    """An unmapped, timezone-aware event time: the current window is a later month, as every production
    window is. Drift leaves datetime columns out; out-of-range must not warn on them either."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame[["mean radius"]]
    ref, cur = frame.iloc[::2].copy(), frame.iloc[1::2].copy()
    ref["ts"] = pd.date_range("2024-01-01", periods=len(ref), freq="h", tz="UTC")
    cur["ts"] = pd.date_range("2024-03-01", periods=len(cur), freq="h", tz="Europe/Berlin")
    assert cur["ts"].min() > ref["ts"].max()
    report = mw.compare(ref, cur)
    assert [f for f in report.findings if f.severity != "info"] == []


def test_missing_predictions_are_a_critical_output_finding():
    """A pipeline that stops writing predictions (all NaN, or some) is caught like NaN scores, with the same
    chance guard (Fisher's exact test below 0.001): 10 of 221 diabetes predictions missing is not chance,
    1 is."""
    from scipy.stats import fisher_exact
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    data = load_diabetes(as_frame=True)
    frame = data.frame.assign(pred=Ridge().fit(data.data, data.target).predict(data.data))
    ref, cur = frame.iloc[::2].reset_index(drop=True), frame.iloc[1::2].reset_index(drop=True)
    mapping = mw.ColumnMapping(target="target", prediction="pred")

    def missing_findings(current):
        report = mw.compare(ref, current, mapping=mapping)
        found = [f for f in report.findings if f.check == "output.prediction_missing"]
        return [(f.check, f.severity, f.value) for f in found]

    assert missing_findings(cur.assign(pred=np.nan)) == [("output.prediction_missing", "critical", 1.0)]
    ten = cur.assign(pred=np.r_[np.full(10, np.nan), cur["pred"].to_numpy()[10:]])
    assert fisher_exact([[0, len(ref)], [10, len(cur) - 10]], alternative="less").pvalue < 0.001
    assert missing_findings(ten) == [("output.prediction_missing", "critical", pytest.approx(10 / len(cur)))]
    one = cur.assign(pred=np.r_[np.inf, cur["pred"].to_numpy()[1:]])
    assert fisher_exact([[0, len(ref)], [1, len(cur) - 1]], alternative="less").pvalue > 0.001
    assert missing_findings(one) == []
