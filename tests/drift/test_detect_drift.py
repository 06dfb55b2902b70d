"""detect_drift end to end: catches real shifts, stays quiet on noise at any size, never crashes."""

import numpy as np
import pandas as pd
import pytest

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
    assert empty.drifted_columns == [] and empty["x"].note == "no finite values in current data"
    one = run(ref, ref.iloc[:1])
    assert one.drifted_columns == []


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
