import numpy as np
import pandas as pd
import pytest

import mlwarden as mw
from mlwarden.errors import InputError
from mlwarden.profile import column_kind, load_profile, read_table
from mlwarden.profile.numeric import _histogram_by_sort, histogram


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 5_000
    df = pd.DataFrame(
        {
            "x": rng.normal(10, 2, n),
            "k": rng.integers(0, 5, n),
            "city": rng.choice(["paris", "lima", "oslo"], n),
            "flag": rng.random(n) < 0.3,
            "when": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        }
    )
    df.loc[::10, "x"] = np.nan
    df.loc[::7, "city"] = None
    return df


def test_numeric_summary_matches_numpy(frame):
    p = mw.profile(frame)
    x = frame["x"].to_numpy()
    col = p["x"]
    assert col.kind == "numeric"
    assert col.missing == np.isnan(x).sum()
    assert col.count == (~np.isnan(x)).sum()
    assert col.min == np.nanmin(x) and col.max == np.nanmax(x)
    assert col.mean == pytest.approx(np.nanmean(x))
    assert col.variance == pytest.approx(np.nanvar(x))
    assert col.hist.sum() == col.count
    assert col.hist[0] == 0 and col.hist[-1] == 0  # own edges: nothing under/overflows
    assert col.edges[0] == col.min and col.edges[-1] == col.max
    assert np.allclose(col.quantiles([0.1, 0.5, 0.9]), np.nanquantile(x, [0.1, 0.5, 0.9]), atol=0.1)


def test_kinds_and_categories(frame):
    p = mw.profile(frame)
    assert [p[c].kind for c in frame.columns] == ["numeric", "numeric", "categorical", "boolean", "datetime"]
    city = p["city"]
    assert city.missing == frame["city"].isna().sum()
    assert city.categories == frame["city"].value_counts().to_dict()
    assert set(p["flag"].categories) == {"True", "False"}
    assert p["when"].min == frame["when"].min().timestamp()
    assert column_kind(pd.Series([True, None, False], dtype=object), "b") == "boolean"


def test_current_is_binned_on_reference_edges(frame):
    ref = mw.profile(frame)
    shifted = frame.assign(x=frame["x"] + 100)
    cur = mw.profile(shifted, reference=ref)
    assert np.array_equal(cur["x"].edges, ref["x"].edges)
    assert cur["x"].hist[-1] == cur["x"].count  # everything overflows the reference range


def test_constant_empty_and_all_nan_columns():
    df = pd.DataFrame({"c": [3.0] * 10, "n": [np.nan] * 10, "inf": [1.0, np.inf, -np.inf] + [2.0] * 7})
    p = mw.profile(df)
    assert p["c"].variance == 0 and list(p["c"].edges) == [3.0] and p["c"].hist.sum() == 10
    assert p["n"].kind == "empty" and p["n"].missing == 10 and p["n"].count == 0 and np.isnan(p["n"].mean)
    assert p["inf"].nonfinite == 2 and p["inf"].count == 10 and p["inf"].hist.sum() == 8
    empty = mw.profile(df.iloc[:0])
    assert empty.rows == 0 and empty["c"].kind == "empty" and empty["c"].count == 0 and len(empty.sample) == 0
    assert np.isnan(empty["c"].quantiles(0.5)).all()


def test_sample_is_bounded_and_row_aligned(frame):
    frame = frame.assign(y=frame["x"] * 2)
    p = mw.profile(frame, sample_rows=100, seed=1)
    assert len(p.sample) == 100
    ok = p.sample["x"].notna()
    assert np.allclose(p.sample.loc[ok, "y"], 2 * p.sample.loc[ok, "x"])  # whole rows, not columns
    small = mw.profile(frame.iloc[:10], sample_rows=100)
    assert len(small.sample) == 10


def test_merge_matches_concat_and_handles_missing_columns(frame):
    ref = mw.profile(frame)
    a, b = frame.iloc[:2000], frame.iloc[2000:]
    merged = mw.profile(a, reference=ref).merge(mw.profile(b.drop(columns=["city"]), reference=ref))
    assert merged.rows == len(frame)
    assert merged["city"].missing == a["city"].isna().sum() + len(b)
    whole = mw.profile(frame, reference=ref)
    assert np.array_equal(merged["x"].hist, whole["x"].hist)
    assert merged["x"].variance == pytest.approx(whole["x"].variance)


def test_merge_with_different_edges_keeps_histogram_and_sketch_quantiles():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 20_000), rng.normal(5, 1, 20_000)
    m = mw.profile(pd.DataFrame({"x": a}), sketch=True).merge(mw.profile(pd.DataFrame({"x": b}), sketch=True))
    both = np.concatenate([a, b])
    # the histogram survives (rebinned); its quantiles are within one merged bin's mass (1 %) of the data's
    ranks = (both[:, None] <= m["x"].quantiles([0.1, 0.25, 0.5, 0.75, 0.9])[None, :]).mean(axis=0)
    assert m["x"].hist.sum() == both.size
    assert np.allclose(ranks, [0.1, 0.25, 0.5, 0.75, 0.9], atol=0.01)
    assert mw.profile(pd.DataFrame({"x": a})).merge(mw.profile(pd.DataFrame({"x": b})))["x"].sketch is None
    # KLL compacts at random above k=200 values; below that it keeps every value, so this is deterministic
    small = [pd.DataFrame({"x": x[:90]}) for x in (a, b)]
    exact = mw.profile(small[0], sketch=True).merge(mw.profile(small[1], sketch=True))
    sketch, values = exact["x"].sketch, np.concatenate([a[:90], b[:90]])
    median = sketch.get_quantile(0.5)
    assert not sketch.is_estimation_mode() and sketch.n == 180
    assert median in values and (values < median).mean() <= 0.5 <= (values <= median).mean()


def test_kind_mismatch_in_merge_is_a_clear_error():
    a = mw.profile(pd.DataFrame({"x": [1.0, 2.0]}))
    b = mw.profile(pd.DataFrame({"x": ["u", "v"]}))
    with pytest.raises(InputError, match="column 'x' is numeric in one profile and categorical"):
        a.merge(b)


def test_category_cap_keeps_top_and_counts_other():
    s = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 30 + [f"u{i}" for i in range(20)]})
    col = mw.profile(s, category_cap=2)["c"]
    assert col.categories == {"a": 50, "b": 30} and col.other == 20 and col.capped
    assert col.count == 100


def test_serialisation_round_trip_and_errors(frame, tmp_path):
    p = mw.profile(frame, sketch=True, source="train.parquet")
    path = tmp_path / "ref.mlwprof"
    p.save(path)
    q = load_profile(path)
    assert q.rows == p.rows and q.source == "train.parquet"
    for name in frame.columns:
        a, b = p[name], q[name]
        assert (a.kind, a.count, a.missing, a.categories) == (b.kind, b.count, b.missing, b.categories)
        if a.is_numeric:
            assert np.array_equal(a.hist, b.hist) and np.array_equal(a.edges, b.edges)
            assert a.quantiles(0.5) == b.quantiles(0.5)
    assert q.sample.equals(p.sample)
    data = path.read_bytes()
    with pytest.raises(InputError, match="truncated or corrupted"):
        mw.DatasetProfile.from_bytes(data[:-10])
    with pytest.raises(InputError, match="not an mlwarden profile"):
        mw.DatasetProfile.from_bytes(b"PAR1" + data[4:])
    (tmp_path / "junk.mlwprof").write_bytes(b"")
    with pytest.raises(InputError, match=r"junk\.mlwprof"):
        load_profile(tmp_path / "junk.mlwprof")


def test_read_table_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="file is empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="cannot read as parquet"):
        read_table(tmp_path / "bad.parquet")
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(InputError, match="unsupported file type"):
        read_table(tmp_path / "x.xlsx")


def _histogram_by_search(x: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The definition: bin = number of edges <= x, the maximum edge counted in the last inner bin."""
    idx = np.searchsorted(edges, x, side="right")
    if edges.size > 1:
        idx[x == edges[-1]] = edges.size - 1
    return np.bincount(idx, minlength=edges.size + 1), np.bincount(idx, weights=x, minlength=edges.size + 1)


def test_fast_histograms_equal_the_definition():
    rng = np.random.default_rng(11)
    for ref in (rng.normal(size=50_000), rng.lognormal(0, 3, 50_000), np.round(rng.normal(size=50_000), 1)):
        edges = mw.profile(pd.DataFrame({"x": ref}))["x"].edges
        for x in (ref, rng.normal(1, 3, 50_000), edges, np.nextafter(edges, -np.inf), ref[:700], ref[:0]):
            expected, expected_sums = _histogram_by_search(x, edges)
            for counts, sums in (histogram(x, edges), _histogram_by_sort(x, edges)):  # grid (large) and sort
                assert np.array_equal(counts, expected) and np.allclose(sums, expected_sums)
    one_edge = np.array([2.0])  # a constant reference: below, and at or above its value
    for counts, sums in (
        histogram(np.array([1.0, 2.0, 3.0]), one_edge),
        _histogram_by_sort(np.array([1.0, 2.0, 3.0]), one_edge),
    ):
        assert counts.tolist() == [1, 2] and sums.tolist() == [1.0, 5.0]


def test_small_float_block_path_equals_column_by_column(monkeypatch):
    import sys

    dataset = sys.modules["mlwarden.profile.dataset"]  # the function mw.profile shadows the package name
    rng = np.random.default_rng(5)
    ref = mw.profile(
        pd.DataFrame({f"x{i}": rng.normal(size=5_000) for i in range(4)} | {"k": [1, 2] * 2_500})
    )
    cur = pd.DataFrame(
        {
            "x0": rng.normal(0.3, 2, 700),
            "x1": np.r_[rng.normal(size=699), np.nan],  # a NaN: general path
            "x2": np.full(700, 0.25),  # constant
            "x3": np.r_[rng.normal(size=699), np.inf],  # an inf: general path
            "k": rng.integers(0, 3, 700),  # integers: general path
        }
    )
    block = mw.profile(cur, reference=ref, seed=1, sample_rows=100)
    monkeypatch.setattr(dataset, "SMALL_BLOCK_ROWS", 0)
    plain = mw.profile(cur, reference=ref, seed=1, sample_rows=100)
    assert list(block.columns) == list(plain.columns) == list(cur.columns)
    for name in cur.columns:
        a, b = block[name], plain[name]
        assert (a.count, a.missing, a.nonfinite, a.min, a.max) == (
            b.count,
            b.missing,
            b.nonfinite,
            b.min,
            b.max,
        )
        assert a.moments.n == b.moments.n and np.isclose(a.mean, b.mean) and np.isclose(a.m2, b.m2, atol=1e-9)
        assert np.array_equal(a.hist, b.hist) and np.allclose(a.bin_sums, b.bin_sums)
    pd.testing.assert_frame_equal(block.sample, plain.sample)


def test_the_same_data_gives_the_same_row_sample_and_same_sized_batches_different_keys():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x": rng.normal(size=5_000), "c": rng.choice(["a", "b"], 5_000)})
    first, again = mw.profile(frame), mw.profile(frame)
    assert np.array_equal(first.sample_keys, again.sample_keys)
    assert first.sample.equals(again.sample)
    other = mw.profile(frame.iloc[::-1].reset_index(drop=True))  # same size, other rows in each position
    assert not np.array_equal(first.sample_keys, other.sample_keys)
