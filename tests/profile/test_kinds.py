"""Kinds that survive real data: empty columns, Decimal numbers, integer column names, magnitudes near
1e±300 and the column mapping's kind overrides. Expected values come from numpy."""

import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlwarden as mw
from mlwarden.drift import detect_drift
from mlwarden.errors import InputError
from mlwarden.profile import load_profile

NULL_DTYPES = ["float64", "object", "Int64", "Float64", "string", "boolean", "datetime64[ns]", "category"]


@pytest.mark.parametrize("dtype", NULL_DTYPES)
def test_a_column_without_values_is_empty_whatever_its_dtype(dtype):
    p = mw.profile(pd.DataFrame({"x": pd.Series([None] * 6, dtype=dtype), "y": np.arange(6.0)}), seed=0)
    col = p["x"]
    assert (col.kind, col.count, col.missing, col.is_numeric) == ("empty", 0, 6, False)
    assert p.sample["x"].isna().all()


def test_parquet_null_and_all_none_columns_are_empty(tmp_path):
    path = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"n": pa.nulls(5), "o": pa.array([None] * 5, pa.string()), "v": range(5)}), path)
    for frame in (pd.read_parquet(path), pd.read_parquet(path, dtype_backend="pyarrow")):
        p = mw.profile(frame)
        assert [p[c].kind for c in ("n", "o", "v")] == ["empty", "empty", "numeric"]
        assert p["n"].missing == p["o"].missing == 5


def test_empty_merges_into_the_typed_kind_and_round_trips(tmp_path):
    typed = pd.DataFrame({"x": [1.0, 2.0, 4.0], "c": ["a", "b", "a"]})
    empty = pd.DataFrame({"x": [None] * 4, "c": [np.nan] * 4})
    p_typed, p_empty = mw.profile(typed, seed=0), mw.profile(empty, seed=1)
    path = tmp_path / "empty.mlwprof"
    p_empty.save(path)
    loaded = load_profile(path)
    assert loaded["x"].kind == "empty" and loaded["x"].missing == 4
    for merged in (p_typed.merge(loaded), loaded.merge(p_typed), mw.merge([p_empty, p_typed, p_empty])):
        x, c = merged["x"], merged["c"]
        assert x.kind == "numeric" and x.count == 3 and x.missing == merged.rows - 3
        assert np.array_equal(x.hist, p_typed["x"].hist) and x.mean == pytest.approx(np.mean([1, 2, 4]))
        assert c.kind == "categorical" and c.categories == {"a": 2, "b": 1} and c.missing == merged.rows - 3
        assert merged.sample["c"].map(lambda v: v is None or isinstance(v, str)).all()
        assert merged.sample["x"].dtype == np.float64
    both_empty = p_empty.merge(p_empty)
    assert both_empty["x"].kind == "empty" and both_empty["x"].missing == 8
    assert np.isnan(both_empty["x"].quantiles(0.5)).all()


def _lognormal_decimals(n, rng):
    amounts = np.round(rng.lognormal(3, 1, n), 2)
    return amounts, [decimal.Decimal(f"{a:.2f}") for a in amounts]


def test_decimal_objects_and_parquet_decimal128_are_numeric(tmp_path):
    rng = np.random.default_rng(4)
    amounts, decimals = _lognormal_decimals(1_000, rng)
    decimals[7] = None
    amounts[7] = np.nan
    frame = pd.DataFrame({"amount": pd.Series(decimals, dtype=object)})
    path = tmp_path / "amounts.parquet"
    pq.write_table(pa.table({"amount": pa.array(decimals, pa.decimal128(12, 2))}), path)
    read = pd.read_parquet(path)
    arrow = pd.read_parquet(path, dtype_backend="pyarrow")
    assert read["amount"].dtype == object and isinstance(arrow["amount"].dtype, pd.ArrowDtype)
    for data in (frame, read, arrow, path):
        col = mw.profile(data)["amount"]
        assert col.kind == "numeric" and col.count == 999 and col.missing == 1
        assert col.mean == pytest.approx(np.nanmean(amounts), rel=1e-12)
        assert col.std == pytest.approx(np.nanstd(amounts), rel=1e-12)
        assert (col.min, col.max) == (np.nanmin(amounts), np.nanmax(amounts))


def test_integer_column_names_work_in_profile_merge_and_files(tmp_path):
    rng = np.random.default_rng(5)
    reference = pd.DataFrame(rng.normal(size=(3_000, 3)))  # columns 0, 1, 2
    ref = mw.profile(reference, seed=0)
    assert ref.column_names == ["0", "1", "2"] and ref[0] is ref["0"] and 1 in ref
    current = pd.DataFrame(rng.normal(size=(500, 3)))
    cur = mw.profile(current, reference=ref, seed=1)  # the small-batch block path
    assert np.array_equal(cur["2"].edges, ref["2"].edges)
    assert cur["2"].hist.sum() == 500 and cur["2"].mean == pytest.approx(current[2].mean())
    assert list(mw.profile(current, columns=[2, "0"]).columns) == ["2", "0"]
    merged = ref.merge(cur)
    assert merged["1"].count == 3_500 and merged.sample.columns.tolist() == ["0", "1", "2"]
    path = tmp_path / "ints.mlwprof"
    merged.save(path)
    assert load_profile(path)["0"].count == 3_500


SCALES = [(1e300, 1e299), (1e-300, 1e-301)]


@pytest.mark.parametrize(("centre", "sd"), SCALES)
def test_moments_and_histograms_at_extreme_magnitudes(centre, sd):
    rng = np.random.default_rng(6)
    z = rng.normal(size=4_000)
    values = centre + sd * z
    p = mw.profile(pd.DataFrame({"x": values}))["x"]
    expected_std = np.std(values / sd) * sd  # numpy, on the values divided by a scale
    assert p.std == pytest.approx(expected_std, rel=1e-9) and p.std > 0
    assert p.mean == pytest.approx(np.mean(values / sd) * sd, rel=1e-12)
    assert np.all(np.isfinite(p.edges)) and p.hist.sum() == 4_000 and np.all(np.isfinite(p.bin_sums))
    assert p.edges[0] == values.min() and p.edges[-1] == values.max()
    halves = mw.profile(pd.DataFrame({"x": values[:1_500]})).merge(
        mw.profile(pd.DataFrame({"x": values[1_500:]}))
    )
    assert halves["x"].std == pytest.approx(expected_std, rel=1e-9)  # Chan's merge in the scaled form
    assert halves["x"].hist.sum() == 4_000


@pytest.mark.parametrize(("centre", "sd"), SCALES)
def test_a_five_sd_shift_at_extreme_magnitudes_is_drift(centre, sd):
    rng = np.random.default_rng(7)
    ref = mw.profile(pd.DataFrame({"x": centre + sd * rng.normal(size=2_000)}), seed=0)
    same = mw.profile(pd.DataFrame({"x": centre + sd * rng.normal(size=500)}), reference=ref, seed=1)
    shifted = mw.profile(pd.DataFrame({"x": centre + sd * (5 + rng.normal(size=500))}), reference=ref, seed=2)
    assert shifted["x"].hist[-1] > 450  # above the reference's range: overflow bin
    assert shifted["x"].mean - ref["x"].mean == pytest.approx(5 * sd, rel=0.1)
    assert detect_drift(ref, shifted).drifted_columns == ["x"]
    assert detect_drift(ref, same).drifted_columns == []


def test_mapping_kind_overrides_and_ignore():
    codes = pd.Series([1.0, 2.0, np.nan, 2.0, 10.0])  # whole numbers stored as floats (a missing value)
    frame = pd.DataFrame(
        {"code": codes, "amount": ["1.5", "2", None, "1e3", " 7 "], "secret": ["a"] * 5, "n": range(5)}
    )
    mapping = mw.ColumnMapping(categorical=["code"], numeric=["amount"], ignore=["secret"])
    p = mw.profile(frame, mapping=mapping, seed=0)
    assert list(p.columns) == ["code", "amount", "n"] and "secret" not in p.sample
    assert p["code"].kind == "categorical" and p["code"].categories == {"1": 1, "2": 2, "10": 1}
    assert p["code"].missing == 1
    assert set(p.sample["code"].dropna()) <= {"1", "2", "10"}
    without_missing = mw.profile(pd.DataFrame({"code": [1, 2]}), mapping=mapping)  # int dtype: same labels
    assert without_missing["code"].categories == {"1": 1, "2": 1}
    amount = p["amount"]
    assert amount.kind == "numeric" and amount.count == 4 and amount.missing == 1
    assert amount.mean == pytest.approx(np.mean([1.5, 2, 1e3, 7]))
    with pytest.raises(InputError, match=r"column 'amount' is declared numeric, but holds 'n/a2'"):
        mw.profile(frame.assign(amount=["1", "n/a2", None, "NA", ""]), mapping=mapping)


def test_a_complex_column_is_an_input_error_not_its_real_part():
    # complex is a numeric dtype too: the real part was profiled, the imaginary dropped with a ComplexWarning
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "z": np.array([1 + 2j, 3 - 1j, 0.5j])})
    with pytest.raises(InputError, match=r"^column 'z' holds complex numbers; expected numeric, categorical"):
        mw.profile(frame)
