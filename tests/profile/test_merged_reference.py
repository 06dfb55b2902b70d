"""Merged references are full references: parts profiled each on its own edges merge into a profile that
gives the drift tests the verdicts the whole data gives; the row sample's size is ``sample_rows``."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

import mlwarden as mw
from mlwarden.drift import detect_drift
from mlwarden.errors import InputError

ALPHA = 0.05
BINOMIAL_SD = 1.5  # sd of Binomial(9, 0.5): the code column's scale


def frame(n: int, shift_sd: float, rng: np.random.Generator) -> pd.DataFrame:
    """Normal, lognormal and discrete 0-9 code columns, each shifted by ``shift_sd`` of its own sd."""
    return pd.DataFrame(
        {
            "normal": rng.normal(10 + shift_sd, 1, n),
            "lognormal": rng.lognormal(0, 0.5, n) + shift_sd * np.sqrt((np.exp(0.25) - 1) * np.exp(0.25)),
            "code": rng.binomial(9, 0.5 + shift_sd * BINOMIAL_SD / 9, n),
        }
    )


REFERENCE = frame(20_000, 0.0, np.random.default_rng(10))
CURRENTS = {
    "unshifted": frame(5_000, 0.0, np.random.default_rng(11)),
    "shifted": frame(5_000, 0.2, np.random.default_rng(12)),
}


def parts_of(split: str, column: str) -> list[pd.DataFrame]:
    """Four parts: consecutive rows (daily files) or rows sorted on a column (partitions by key)."""
    rows = REFERENCE if split == "files" else REFERENCE.sort_values(column, kind="stable")
    return [rows.iloc[i * 5_000 : (i + 1) * 5_000] for i in range(4)]


@pytest.mark.parametrize("split", ["files", "sorted"])
@pytest.mark.parametrize("column", ["normal", "lognormal", "code"])
@pytest.mark.parametrize("current", ["unshifted", "shifted"])
def test_four_merged_parts_give_the_verdicts_of_the_whole_reference(split, column, current):
    data = CURRENTS[current]
    whole = mw.profile(REFERENCE[[column]], seed=0)
    merged = mw.merge([mw.profile(part[[column]], seed=i) for i, part in enumerate(parts_of(split, column))])
    expected = ks_2samp(REFERENCE[column], data[column])  # the KS test on the raw values
    verdicts = []
    for reference in (whole, merged):
        entry = detect_drift(reference, mw.profile(data[[column]], reference=reference, seed=1)).columns[0]
        assert entry.note is None or "no finite values" not in entry.note
        assert entry.scores["ks"] == pytest.approx(expected.statistic, abs=0.01)
        assert (entry.p_value < ALPHA) == (expected.pvalue < ALPHA)
        verdicts.append(entry.drifted)
    assert verdicts[0] == verdicts[1] == (current == "shifted")


def test_merged_discrete_parts_with_disjoint_values_equal_the_whole():
    whole = mw.profile(REFERENCE[["code"]])["code"]
    merged = mw.merge([mw.profile(p[["code"]]) for p in parts_of("sorted", "code")])["code"]
    assert np.array_equal(merged.edges, whole.edges) and np.array_equal(merged.hist, whole.hist)
    assert np.allclose(merged.bin_sums, whole.bin_sums)


def test_readme_merge_of_hourly_profiles():
    rng = np.random.default_rng(13)
    hours = [
        pd.DataFrame({"latency": rng.gamma(2, 30, 1_000), "route": rng.choice(["a", "b"], 1_000)})
        for _ in range(24)
    ]
    hourly_profiles = [mw.profile(hour, seed=i) for i, hour in enumerate(hours)]  # each on its own edges
    day = mw.merge(hourly_profiles)
    latency = day["latency"]
    assert day.rows == 24_000 and latency.count == 24_000 and latency.hist.sum() == 24_000
    assert latency.edges.size <= 101 and day["route"].count == 24_000
    values = np.concatenate([h["latency"] for h in hours])
    assert latency.mean == pytest.approx(values.mean()) and latency.std == pytest.approx(values.std())
    result = detect_drift(day, mw.profile(hours[0], reference=day))
    assert result.drifted_columns == [] and all(e.score is not None for e in result.columns)


def test_sample_rows_bounds_the_row_sample_and_zero_keeps_none(tmp_path):
    data = REFERENCE.iloc[:3_000].assign(label=np.where(REFERENCE["code"].iloc[:3_000] > 4, "hi", "lo"))
    some = mw.profile(data, sample_rows=100, seed=0)
    assert len(some.sample) == 100 and some.sample_rows == 100
    none = mw.profile(data, sample_rows=0, seed=0)
    assert len(none.sample) == 0 and none.sample_rows == 0 and none.sample_keys.size == 0
    assert list(none.sample.columns) == list(data.columns)
    merged = none.merge(some)
    assert len(merged.sample) == 0 and merged.sample_rows == 0 and merged.rows == 6_000
    path = tmp_path / "no-sample.mlwprof"
    merged.save(path)
    loaded = mw.load_profile(path)
    assert len(loaded.sample) == 0 and loaded.sample_rows == 0 and loaded["normal"].count == 6_000
    with pytest.raises(InputError, match="sample_rows must be non-negative"):
        mw.profile(data, sample_rows=-1)
