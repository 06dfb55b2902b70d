"""FeatureSet: one code path for training frames and serving records, typed inputs and outputs."""

import math
import struct

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.errors import InputError
from mlwarden.features import Feature, FeatureSet


def make_featureset() -> FeatureSet:
    fs = FeatureSet(name="payments")

    @fs.feature(inputs=["amount"])
    def log_amount(amount):
        return np.log1p(np.abs(amount))

    @fs.feature(inputs={"amount": "float64", "n_items": "int64"}, params={"scale": 0.1})
    def per_item(amount, n_items, scale):
        return amount / n_items.astype("float64") * scale

    @fs.feature(inputs={"amount": "float64"}, dtype="Int64")
    def rounded(amount):
        return np.round(amount.clip(-1e12, 1e12))

    @fs.feature(inputs={"country": "string"}, dtype="category")
    def region(country):
        return country.str.upper().str[:2]

    @fs.feature(inputs={"country": "string"}, dtype="Int64")
    def name_length(country):
        return country.str.len()

    @fs.feature(inputs={"is_new": "bool", "amount": "float64"}, dtype="boolean")
    def big_new(is_new, amount):
        return is_new & (amount > 100)

    fs.add(Feature("amount_sq", inputs=["amount"], dtype="float32", func=lambda a: a * a))
    return fs


def same(a, b) -> bool:
    """Bitwise equality for floats (NaN payloads included), equality otherwise."""
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and a == b


floats = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-(2**40), 2**40),
)
rows = st.lists(
    st.fixed_dictionaries(
        {
            "amount": floats,
            "n_items": st.one_of(st.none(), st.integers(-5, 10**6)),
            "country": st.one_of(st.none(), st.text(max_size=6)),
            "is_new": st.one_of(st.none(), st.booleans()),
        }
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=200, deadline=None)
@given(rows)
def test_training_frame_and_serving_records_are_bitwise_identical(records):
    fs = make_featureset()
    training = pd.DataFrame(
        {
            "amount": pd.Series([r["amount"] for r in records], dtype="float64"),
            "n_items": pd.Series([r["n_items"] for r in records], dtype="Int64"),
            "country": pd.Series([r["country"] for r in records], dtype=object),
            "is_new": pd.Series([r["is_new"] for r in records], dtype="boolean"),
        }
    )
    offline = fs.transform(training)
    batch = fs.transform_records(records)
    singles = [fs.transform_record(r) for r in records[:3]]
    for name in fs.names:
        column = offline[name]
        floating = pd.api.types.is_float_dtype(column.dtype)
        for i, value in enumerate(column.tolist()):
            expected = None if not floating and pd.isna(value) else value
            if floating:
                expected = float(expected)
            assert same(batch[i][name], expected), (name, batch[i][name], expected)
            if i < len(singles):
                assert same(singles[i][name], expected), (name, singles[i][name], expected)


def test_transform_keeps_index_and_declared_dtypes():
    fs = make_featureset()
    df = pd.DataFrame(
        {
            "amount": [10.0, np.nan, 250.0],
            "n_items": [1, 2, 5],
            "country": ["de", None, "fr"],
            "is_new": [1, 0, 1],
        },
        index=[7, 8, 9],
    ).astype({"is_new": bool})
    out = fs.transform(df)
    assert list(out.index) == [7, 8, 9] and list(out.columns) == fs.names
    assert out.dtypes.astype(str).to_dict() == {
        "log_amount": "float64",
        "per_item": "float64",
        "rounded": "Int64",
        "region": "category",
        "name_length": "Int64",
        "big_new": "boolean",
        "amount_sq": "float32",
    }
    assert out.loc[9, "per_item"] == pytest.approx(5.0) and out.loc[9, "region"] == "FR"
    assert out.loc[9, "big_new"] and not out.loc[7, "big_new"]
    record = fs.transform_record({"amount": 250, "n_items": 5, "country": "fr", "is_new": True})
    assert record["per_item"] == out.loc[9, "per_item"] and record["region"] == "FR"
    missing = fs.transform_record({"amount": None, "n_items": None, "country": None, "is_new": None})
    assert math.isnan(missing["log_amount"]) and missing["region"] is None and missing["rounded"] is None
    described = {d["name"]: d for d in fs.describe()}
    assert described["per_item"] == {
        "name": "per_item",
        "inputs": {"amount": "float64", "n_items": "int64"},
        "dtype": "float64",
        "params": {"scale": 0.1},
        "description": "",
    }


def test_missing_column_names_feature_and_column():
    fs = make_featureset()
    with pytest.raises(InputError, match=r"feature 'per_item': input column 'n_items' is missing"):
        fs.transform(pd.DataFrame({"amount": [1.0], "country": ["de"], "is_new": [True]}))
    with pytest.raises(InputError, match=r"input column 'is_new' is missing"):
        fs.transform_record({"amount": 1.0, "n_items": 1, "country": "de"})


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"amount": "12.5"}, r"feature 'log_amount': input column 'amount' must hold numeric values.*'12.5'"),
        ({"n_items": 1.5}, r"feature 'per_item': input column 'n_items' must hold integer values"),
        ({"country": 3}, r"feature 'region': input column 'country' must hold string values"),
        ({"is_new": "yes"}, r"feature 'big_new': input column 'is_new' must hold boolean values"),
        ({"amount": True}, r"input column 'amount' must hold numeric values"),
    ],
)
def test_wrong_input_type_names_feature_and_column(record, message):
    good = {"amount": 1.0, "n_items": 1, "country": "de", "is_new": True}
    with pytest.raises(InputError, match=message):
        make_featureset().transform_record(good | record)


def test_output_contract_is_enforced():
    fs = FeatureSet([Feature("k", inputs=["x"], dtype="int64", func=lambda x: x * 1.5)])
    with pytest.raises(InputError, match="feature 'k' is declared int64 but returned non-integer values"):
        fs.transform(pd.DataFrame({"x": [1.0]}))
    fs = FeatureSet([Feature("k", inputs=["x"], dtype="bool", func=lambda x: x > 0)])
    assert fs.transform(pd.DataFrame({"x": [1.0, -1.0]}))["k"].tolist() == [True, False]
    fs = FeatureSet([Feature("k", inputs=["x"], dtype="float64", func=lambda x: x[:1])])
    with pytest.raises(InputError, match="feature 'k' returned 1 values for 2 rows"):
        fs.transform(pd.DataFrame({"x": [1.0, 2.0]}))
    fs = FeatureSet([Feature("k", inputs={"s": "string"}, dtype="float64", func=lambda s: s + 1)])
    with pytest.raises(InputError, match=r"feature 'k' failed on input columns 's' \(string\)"):
        fs.transform(pd.DataFrame({"s": ["a"]}))


def test_definition_mistakes_are_input_errors():
    with pytest.raises(InputError, match="defined twice"):
        FeatureSet([Feature("a", ["x"], "float64", abs), Feature("a", ["x"], "float64", abs)])
    with pytest.raises(InputError, match="output dtype must be one of"):
        Feature("a", ["x"], "float16", abs)
    with pytest.raises(InputError, match="input dtype must be one of"):
        Feature("a", {"x": "decimal"}, "float64", abs)
    with pytest.raises(InputError, match="inputs must be a list"):
        Feature("a", "x", "float64", abs)
    assert FeatureSet().transform_records([]) == []


def test_datetime_inputs_are_utc():
    fs = FeatureSet([Feature("hour", {"t": "datetime"}, "Int64", lambda t: t.dt.hour)])
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-05-01 13:30", None])})
    assert fs.transform(frame)["hour"].tolist()[0] == 13
    assert fs.transform_records([{"t": "2024-05-01T13:30:00Z"}, {"t": None}])[0]["hour"] == 13
    assert fs.transform_record({"t": "2024-05-01T15:30:00+02:00"})["hour"] == 13
