"""detect_drift end to end: catches real shifts, stays quiet on noise at any size, never crashes."""

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

import mlwarden as mw
from mlwarden.drift import DriftConfig, detect_drift
from mlwarden.errors import InputError

CATS = np.array(list("abcdefghij"))


def frame(n, rng, *, shifted=False):
    data = {f"x{i}": rng.normal(s if shifted else 0, 1, n) for i, s in enumerate([0.1, 0.3, 0, 0])}
    p = np.full(10, 0.1)
    if shifted:
        p[:2] *= 1.5
        p /= p.sum()
    data["c0"] = CATS[rng.choice(10, n, p=p)]
    data["c1"] = CATS[rng.choice(10, n)]
    data["flag"] = rng.random(n) < 0.3
    return pd.DataFrame(data)


def run(ref_df, cur_df, **kw):
    ref = mw.profile(ref_df)
    return detect_drift(ref, mw.profile(cur_df, reference=ref), **kw)


def test_finds_small_shifts_and_nothing_else_at_100k():
    rng = np.random.default_rng(10)
    result = run(frame(100_000, rng), frame(100_000, rng, shifted=True))
    assert result.drifted_columns == ["x0", "x1", "c0"]
    assert result["x1"].score == pytest.approx(0.3, rel=0.1)
    assert result["x0"].p_value < 1e-6
    assert {f.column for f in result.findings() if f.check == "drift"} == {"x0", "x1", "c0"}


def test_no_false_alarms_at_one_million_rows():
    rng = np.random.default_rng(11)
    result = run(frame(1_000_000, rng), frame(1_000_000, rng), config=DriftConfig(multivariate=False))
    assert result.drifted_columns == []
    assert all(c.score < c.threshold for c in result.columns)


def test_small_samples_do_not_alarm_on_noise():
    rng = np.random.default_rng(12)
    alarms = sum(len(run(frame(60, rng), frame(60, rng)).drifted_columns) for _ in range(10))
    assert alarms <= 1


def test_json_shape_follows_the_contract():
    rng = np.random.default_rng(13)
    d = run(frame(2_000, rng), frame(2_000, rng, shifted=True)).to_dict()
    assert set(d) >= {"columns", "drifted_columns", "share_drifted", "multivariate"}
    col = d["columns"][0]
    assert set(col) >= {"column", "kind", "method", "score", "threshold", "p_value", "drifted"}
    assert {c["kind"] for c in d["columns"]} == {"numeric", "categorical"}
    assert set(d["multivariate"]) >= {"method", "score", "threshold", "drifted"}


def test_multivariate_catches_a_correlation_flip_with_unchanged_marginals():
    rng = np.random.default_rng(14)
    cov = [[1, 0.8], [0.8, 1]]
    a = pd.DataFrame(rng.multivariate_normal([0, 0], cov, 20_000), columns=["u", "v"])
    b = pd.DataFrame(rng.multivariate_normal([0, 0], [[1, -0.8], [-0.8, 1]], 20_000), columns=["u", "v"])
    result = run(a, b)
    assert result.drifted_columns == []
    assert result.multivariate.drifted and result.multivariate.score > 0.7
    assert any(f.check == "drift.multivariate" for f in result.findings())
    quiet = run(a, pd.DataFrame(rng.multivariate_normal([0, 0], cov, 20_000), columns=["u", "v"]))
    assert not quiet.multivariate.drifted


def test_edge_cases_give_notes_or_findings_not_crashes():
    ref = pd.DataFrame(
        {
            "const": [1.0] * 100,
            "nan": [np.nan] * 100,
            "x": np.arange(100.0),
            "s": ["a", "b"] * 50,
            "gone": 1.0,
        }
    )
    cur = pd.DataFrame({"const": [1.0] * 3, "nan": [np.nan] * 3, "x": ["p", "q", "r"], "s": ["a", "b", "z"]})
    result = run(ref, cur)
    by_check = {(f.check, f.column) for f in result.findings()}
    assert ("drift.kind_mismatch", "x") in by_check and ("drift.missing_column", "gone") in by_check
    assert result["const"].score == 0 and not result["const"].drifted
    assert result["nan"].note == "no values in the reference"
    assert result["s"].unseen_categories == ["z"]
    empty = run(ref, ref.iloc[:0])
    assert empty.drifted_columns == [] and empty["x"].note == "no values in current data"
    one = run(ref, ref.iloc[:1])
    assert one.drifted_columns == []


def test_infinite_values_reach_the_domain_classifier_in_order_and_without_warnings():
    # +inf/-inf turned the classifier's quantile bins into NaN: numpy warnings on every `mlwarden check`
    rng = np.random.default_rng(21)

    def side(n, share):
        a, b = rng.normal(size=n), rng.normal(size=n)
        a[rng.random(n) < share] = np.inf
        b[rng.random(n) < share] = -np.inf
        return pd.DataFrame({"a": a, "b": b, "c": rng.normal(size=n)})

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = mw.compare(side(3_000, 0.2), side(2_000, 0.2)).drift.multivariate
        more = mw.compare(side(3_000, 0.0), side(2_000, 0.3)).drift.multivariate
    assert not same.drifted and abs(same.score - 0.5) < 0.05
    assert more.drifted and more.score > 0.6  # infinities where there were none: told apart


def test_constant_column_that_moves_is_drift():
    result = run(pd.DataFrame({"c": [5.0] * 500}), pd.DataFrame({"c": [7.0] * 500}))
    assert result.drifted_columns == ["c"] and result["c"].score == pytest.approx(0.4)


def test_identifiers_and_timestamps_are_not_tested():
    n = 500
    ids = pd.DataFrame(
        {"id": [f"u{i}" for i in range(n)], "t": pd.date_range("2026-01-01", periods=n, freq="h")}
    )
    later = pd.DataFrame(
        {"id": [f"v{i}" for i in range(n)], "t": pd.date_range("2026-03-01", periods=n, freq="h")}
    )
    result = run(ids, later)
    assert result.drifted_columns == [] and "id" not in [c.column for c in result.columns]
    (note,) = [f for f in result.findings() if f.check == "drift.identifier"]
    assert note.column == "id" and note.severity == "info"
    assert "timestamps" in result["t"].note
    assert run(ids, later, config=DriftConfig(include_datetime=True, multivariate=False))["t"].drifted


def test_methods_and_thresholds_are_configurable():
    rng = np.random.default_rng(15)
    ref, cur = frame(20_000, rng), frame(20_000, rng, shifted=True)
    ks = run(ref, cur, config=DriftConfig(numeric_method="ks", categorical_method="chi2"))
    assert ks["x1"].method == "ks" and ks["x1"].drifted and ks["c0"].method == "chi2" and ks["c0"].drifted
    strict = run(ref, cur, config=DriftConfig(column_thresholds={"x1": 0.9}))
    assert not strict["x1"].drifted
    with pytest.raises(InputError, match="numeric_method"):
        DriftConfig(numeric_method="magic")
    with pytest.raises(InputError, match="columns not in the reference"):
        run(ref, cur, columns=["nope"])


def test_independently_binned_profiles_are_rebinned():
    rng = np.random.default_rng(16)
    ref = mw.profile(pd.DataFrame({"x": rng.normal(0, 1, 50_000), "y": rng.normal(0, 1, 50_000)}))
    cur = mw.profile(pd.DataFrame({"x": rng.normal(0.5, 1, 50_000), "y": rng.normal(0, 1, 50_000)}))
    result = detect_drift(ref, cur)
    assert result.drifted_columns == ["x"] and "re-binned" in result["x"].note
    assert result["x"].score == pytest.approx(0.5, rel=0.1)


def test_binary_and_discrete_numeric_columns_are_tested():
    rng = np.random.default_rng(17)
    ref = pd.DataFrame({"flag": (rng.random(5_000) < 0.2).astype(int), "calls": rng.poisson(1.2, 5_000)})
    cur = pd.DataFrame({"flag": (rng.random(5_000) < 0.4).astype(int), "calls": rng.poisson(1.9, 5_000)})
    result = run(ref, cur)
    assert result.drifted_columns == ["flag", "calls"]
    assert result["flag"].scores["ks"] == pytest.approx(0.2, abs=0.03)
    assert run(ref, ref.sample(frac=1, random_state=1)).drifted_columns == []


def test_vanished_and_doubled_codes_drift_on_their_value_frequencies():
    """Codes 0–9: code 4 vanishes and code 3 doubles. The CDF barely moves (Wasserstein below its threshold);
    the chi-square test over the per-value bins — the p-value scipy's chi2_contingency gives on the same
    counts — and the frequencies' Jensen–Shannon distance catch it."""
    rng = np.random.default_rng(20)
    ref = pd.DataFrame({"code": rng.integers(0, 10, 5_000)})
    cur = pd.DataFrame({"code": rng.integers(0, 10, 5_000)})
    cur.loc[cur["code"] == 4, "code"] = 3
    result = run(ref, cur, config=DriftConfig(multivariate=False))
    entry = result["code"]
    assert entry.drifted and entry.decided_by == "frequencies" and entry.score < entry.threshold
    table = np.vstack([np.bincount(ref["code"], minlength=10), np.bincount(cur["code"], minlength=10)])
    expected = stats.chi2_contingency(table, correction=False)
    assert entry.scores["chi2"] == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    p = table / table.sum(axis=1, keepdims=True)
    assert entry.frequency_score == pytest.approx(jensenshannon(p[0], p[1], base=2))
    assert "value frequencies changed" in entry.finding().message
    assert not run(ref, ref.sample(frac=1, random_state=2), config=DriftConfig(multivariate=False))[
        "code"
    ].drifted


def test_frequency_chi2_matches_scipy_on_moderate_counts():
    rng = np.random.default_rng(21)
    ref = pd.DataFrame({"k": rng.poisson(2.0, 3_000)})
    cur = pd.DataFrame({"k": rng.poisson(2.2, 2_000)})
    rp = mw.profile(ref)
    entry = detect_drift(rp, mw.profile(cur, reference=rp), config=DriftConfig(multivariate=False))["k"]
    table = np.vstack([rp["k"].hist, mw.profile(cur, reference=rp)["k"].hist]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    # values whose expected count is below 5 on either side are pooled, as chi2_homogeneity does
    expected_counts = table.sum(axis=0) * table.sum(axis=1, keepdims=True) / table.sum()
    sparse = expected_counts.min(axis=0) < 5
    pooled = np.column_stack([table[:, ~sparse], table[:, sparse].sum(axis=1)])
    assert sparse.any() and entry.scores["chi2"] == pytest.approx(
        stats.chi2_contingency(pooled, correction=False).pvalue
    )
    assert entry.scores["ks"] == pytest.approx(stats.ks_2samp(ref["k"], cur["k"]).statistic)


def postcodes(n, rng, weights):
    codes = np.array([f"{i:05d}" for i in range(weights.size)])
    return pd.DataFrame({"postcode": codes[rng.choice(weights.size, n, p=weights / weights.sum())]})


def test_high_cardinality_categoricals_are_tested_on_their_most_frequent_values():
    rng = np.random.default_rng(22)
    weights = rng.pareto(1.5, 3_000) + 0.05
    ref = postcodes(20_000, rng, weights)
    assert 2_000 < ref["postcode"].nunique() < 3_000  # ~11 % distinct: no identifier
    shuffled = run(ref, postcodes(20_000, rng, rng.permutation(weights)))
    same = run(ref, postcodes(20_000, rng, weights))
    assert mw.profile(ref)["postcode"].capped
    assert shuffled.drifted_columns == ["postcode"] and "most frequent values" in shuffled["postcode"].note
    assert same.drifted_columns == [] and same["postcode"].p_value > 0.05
    assert not [f for f in shuffled.findings() if f.check == "drift.identifier"]


def test_identifiers_are_recognised_from_a_capped_profile():
    rng = np.random.default_rng(23)
    ids = pd.DataFrame({"order": [f"o{i}" for i in rng.permutation(5_000)], "x": rng.normal(size=5_000)})
    assert mw.profile(ids)["order"].capped
    result = run(ids, ids.assign(order=[f"p{i}" for i in range(5_000)]))
    (note,) = [f for f in result.findings() if f.check == "drift.identifier"]
    assert note.column == "order" and note.severity == "info" and "identifier-like" in note.message
    assert [c.column for c in result.columns] == ["x"]


def test_a_column_without_values_is_untested_not_a_kind_change():
    rng = np.random.default_rng(24)
    ref = pd.DataFrame({"amount": rng.normal(100, 10, 1_000), "x": rng.normal(size=1_000)})
    cur = pd.DataFrame({"amount": [None] * 200, "x": rng.normal(size=200)})
    report = mw.compare(ref, cur)
    checks = {(f.check, f.column): f for f in report.findings}
    assert ("drift.kind_mismatch", "amount") not in checks
    assert report.drift["amount"].note == "no values in current data" and not report.drift["amount"].drifted
    missing = checks[("quality.missing_rate", "amount")]
    assert missing.severity == "critical" and missing.value == 1.0


def test_chi2_findings_state_the_comparison_the_right_way_round():
    rng = np.random.default_rng(25)
    ref, cur = frame(20_000, rng), frame(20_000, rng, shifted=True)
    result = run(ref, cur, config=DriftConfig(categorical_method="chi2", multivariate=False))
    message = result["c0"].finding().message
    assert result["c0"].drifted and "<" in message and "≥" not in message
    numeric = result["x1"].finding().message
    assert "≥ 0.05" in numeric and "adjusted p-value" in numeric


def test_roles_are_carried_and_the_multivariate_check_uses_features_only():
    rng = np.random.default_rng(26)
    a = pd.DataFrame({"u": rng.normal(size=3_000), "y": rng.normal(size=3_000)})
    b = pd.DataFrame({"u": rng.normal(size=3_000), "y": rng.normal(size=3_000)})
    b["y"] = b["u"] * 2  # only the target's relation to the feature changes
    ref = mw.profile(a)
    result = detect_drift(ref, mw.profile(b, reference=ref), roles={"y": "target"})
    assert [c.column for c in result.target] == ["y"] and [c.column for c in result.features] == ["u"]
    assert result["y"].to_dict()["role"] == "target" and result.outputs == []
    assert result.multivariate.score is None and "two or more" in result.multivariate.note
    with pytest.raises(InputError, match=r"roles\.y"):
        detect_drift(ref, ref, roles={"y": "label"})


def test_per_column_methods_and_thresholds_come_from_the_column_mapping():
    from mlwarden.schema import ColumnMapping

    mapping = ColumnMapping(drift={"x1": {"method": "ks", "threshold": 0.5}, "c0": {"method": "chi2"}})
    config = DriftConfig.from_mapping(mapping, base=DriftConfig(multivariate=False))
    rng = np.random.default_rng(27)
    result = run(frame(20_000, rng), frame(20_000, rng, shifted=True), config=config)
    assert result["x1"].method == "ks" and result["x1"].threshold == 0.5 and not result["x1"].drifted
    assert result["c0"].method == "chi2" and result["c0"].drifted
    assert result["x0"].method == "wasserstein" and not config.multivariate
    with pytest.raises(InputError, match=r"drift\.x1\.method"):
        DriftConfig.from_mapping(ColumnMapping(drift={"x1": {"method": "magic"}}))
    with pytest.raises(InputError, match=r"drift\.c0\.method"):
        run(frame(100, rng), frame(100, rng), config=DriftConfig(column_methods={"c0": "wasserstein"}))


def test_profiles_without_a_row_sample_skip_the_multivariate_check():
    rng = np.random.default_rng(28)
    ref = mw.profile(frame(1_000, rng))
    cur = mw.profile(frame(1_000, rng), reference=ref)
    bare = replace(cur, sample=cur.sample.iloc[:0])
    result = detect_drift(ref, bare)
    assert result.multivariate.score is None and "no row sample" in result.multivariate.note
    assert not result.multivariate.drifted and result.drifted_columns == []


@pytest.mark.parametrize("magnitude", [1e300, 1e-300])
def test_magnitudes_near_the_float_limits_neither_overflow_nor_hide_a_shift(magnitude):
    rng = np.random.default_rng(29)
    ref = pd.DataFrame({"v": rng.normal(10, 1, 2_000) * magnitude})
    moved = run(ref, pd.DataFrame({"v": rng.normal(15, 1, 2_000) * magnitude}))["v"]
    assert moved.drifted and np.isfinite(moved.score) and moved.score == pytest.approx(5, rel=0.1)
    assert all(np.isfinite(v) for v in moved.scores.values())
    still = run(ref, pd.DataFrame({"v": rng.normal(10, 1, 2_000) * magnitude}))["v"]
    assert not still.drifted and still.score < 0.2


def test_a_constant_reference_column_with_a_few_new_values_is_not_drift_by_interpolation():
    """A pixel that is 0 in every reference image and non-zero in 1 % of current ones: the profile's single
    bin cannot tell how many current values sit exactly at 0, so the KS bound must not invent a gap."""
    ref = pd.DataFrame({"pixel": np.zeros(900)})
    cur = pd.DataFrame({"pixel": np.r_[np.zeros(891), np.arange(1.0, 10.0)]})
    entry = run(ref, cur, config=DriftConfig(multivariate=False))["pixel"]
    assert entry.scores["ks"] <= stats.ks_2samp(ref["pixel"], cur["pixel"]).statistic
    assert not entry.drifted


def test_domain_classifier_on_wide_data_sees_only_the_most_drifted_columns():
    rng = np.random.default_rng(21)
    names = [f"x{i}" for i in range(80)]
    ref = pd.DataFrame(rng.normal(size=(4_000, 80)), columns=names)
    cur = pd.DataFrame(rng.normal(size=(4_000, 80)), columns=names)
    cur[["x7", "x42"]] += 0.6  # two shifted among 80
    result = run(ref, cur, config=DriftConfig(multivariate_columns=4))
    assert result.multivariate.drifted
    assert result.multivariate.note == "on the 4 most drifted of 80 feature columns"
    chosen = sorted(names, key=lambda n: -result[n].score / result[n].threshold)[:4]
    assert {"x7", "x42"} <= set(chosen)
    with pytest.raises(InputError, match="multivariate_columns must be at least 2, got 1"):
        DriftConfig(multivariate_columns=1)
