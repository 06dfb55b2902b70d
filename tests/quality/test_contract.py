
import numpy as np
import pandas as pd
import pytest

from mlwarden.errors import InputError
from mlwarden.quality import Contract, check_ids


@pytest.fixture
def reference():
    rng = np.random.default_rng(0)
    n = 2_000
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "plan": rng.choice(["basic", "pro"], n),
            "score": rng.random(n),
            "pred": rng.choice(["yes", "no"], n),
        }
    )


def test_inferred_contract_accepts_its_reference(reference):
    contract = Contract.infer(reference, prediction="pred", scores=["score"])
    assert contract.columns["plan"].allowed == ["basic", "pro"]
    assert (contract.columns["score"].min, contract.columns["score"].max) == (0.0, 1.0)
    assert contract.columns["age"].min < 18 and contract.columns["age"].max > 89
    assert contract.validate(reference) == []


def test_yaml_round_trip_and_hand_edits(reference, tmp_path):
    path = tmp_path / "contract.yaml"
    Contract.infer(reference, scores=["score"]).to_yaml(path)
    text = path.read_text().replace("- pro", "- pro\n    - enterprise")
    path.write_text(text)
    contract = Contract.from_yaml(path)
    assert contract.columns["plan"].allowed == ["basic", "pro", "enterprise"]
    assert contract.scores == ["score"]


def test_violations_are_reported_per_rule_with_examples(reference):
    contract = Contract.infer(reference, prediction="pred", scores=["score"])
    batch = reference.iloc[:100].copy()
    batch.loc[batch.index[:7], "age"] = 500
    batch.loc[batch.index[:3], "plan"] = "gold"
    batch.loc[batch.index[:2], "score"] = 1.5
    batch["extra"] = 1
    found = {f.check + ":" + f.column: f for f in contract.validate(batch.drop(columns=["pred"]))}
    assert found["contract.range:age"].evidence["count"] == 7 and found["contract.range:age"].value == 0.07
    assert found["contract.range:age"].evidence["examples"] == ["500"]
    assert found["contract.category:plan"].evidence["examples"] == ["gold"]
    assert found["contract.range:score"].evidence["count"] == 2
    assert found["contract.missing_column:pred"].severity == "critical"
    assert found["contract.extra_column:extra"].severity == "critical"


def test_kind_change_and_nulls(reference):
    contract = Contract.infer(reference)
    batch = reference.iloc[:50].assign(age=lambda d: d["age"].astype(str), plan=None)
    found = {(f.check, f.column, f.severity) for f in contract.validate(batch)}
    assert ("contract.kind", "age", "critical") in found
    assert ("contract.nullable", "plan", "warning") in found


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("columns: [1, 2]", "'columns' mapping"),
        ("columns:\n  x: {kind: float}", "columns.x.kind"),
        ("columns:\n  x: {kind: numeric, min: low, max: 3}", "columns.x.min must be a number"),
        ("columns:\n  x: {kind: datetime, max: soon}", "columns.x.max must be an ISO-8601 timestamp"),
        ("columns:\n  x: {kind: numeric, min: 3, max: 1}", "columns.x.min is greater than its max"),
        ("columns:\n  x: {kind: categorical, min: 3}", "numeric and datetime columns only"),
        ("columns:\n  x: {kind: numeric}\noutputs: {prediction: p}", "outputs.prediction 'p'"),
        ("version: 2\ncolumns:\n  x: {kind: numeric}", "version 2 is not supported"),
        ("columns: {x: {kind: numeric}\n", "not valid YAML"),
    ],
)
def test_malformed_contracts_name_the_key(text, message):
    with pytest.raises(InputError, match=message):
        Contract.from_yaml(text)


def test_duplicate_and_missing_ids():
    assert check_ids(["a", "b", "c"]) == []
    found = {f.check: f for f in check_ids(["a", "b", "a", None, "b", "c"])}
    assert found["quality.duplicate_ids"].evidence["duplicates"] == 2
    assert found["quality.missing_ids"].severity == "critical"


def by_rule(findings):
    return {f"{f.check}:{f.column}": f for f in findings}


def test_dtype_compatibility():
    """Kinds must match; integer and float are both numeric; an entirely missing column is exempt."""
    contract = Contract.infer(pd.DataFrame({"x": [0.5, 1.5, 2.5], "c": ["a", "b", "a"]}))
    assert contract.validate(pd.DataFrame({"x": [1, 2, 2], "c": ["a", "a", "b"]})) == []  # int for float
    assert contract.validate(pd.DataFrame({"x": pd.array([1, None, 2], dtype="Int64"), "c": "a"})) == [
        f for f in contract.validate(pd.DataFrame({"x": [1, np.nan, 2], "c": "a"}))
    ]
    for wrong in (
        [True, False, True],  # boolean for numeric
        pd.to_datetime(["2024-01-01"] * 3),  # datetime for numeric
        ["1", "2", "x"],  # text for numeric
    ):
        found = by_rule(contract.validate(pd.DataFrame({"x": wrong, "c": "a"})))
        assert found["contract.kind:x"].severity == "critical"
        assert found["contract.kind:x"].evidence["count"] == 3 and found["contract.kind:x"].value == 1.0
    found = by_rule(contract.validate(pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": [1, 2, 3]})))
    assert found["contract.kind:c"].evidence["kind"] == "numeric"
    found = by_rule(contract.validate(pd.DataFrame({"x": [None, None, None], "c": "a"}, dtype=object)))
    assert set(found) == {"contract.nullable:x"}  # an empty column is missing values, not a new kind


@pytest.fixture
def stamps():
    rng = np.random.default_rng(1)
    start = pd.Timestamp("2024-01-01")
    return pd.DataFrame({"ts": start + pd.to_timedelta(rng.integers(0, 10 * 86_400, 500), "s")})


def test_datetime_ranges_are_enforced_with_the_numeric_tolerance(stamps, tmp_path):
    contract = Contract.infer(stamps, range_tolerance=0.1)
    rule = contract.columns["ts"]
    low, high = stamps["ts"].min(), stamps["ts"].max()
    slack = (high - low) * 0.1
    assert rule.min == pytest.approx((low - slack).timestamp()) and rule.max == pytest.approx(
        (high + slack).timestamp()
    )
    inside = pd.DataFrame({"ts": [low - slack * 0.9, high + slack * 0.9]})
    assert contract.validate(inside) == []
    outside = pd.DataFrame({"ts": [low - slack * 1.1, high, high + slack * 1.1, pd.NaT]})
    found = by_rule(contract.validate(outside))["contract.range:ts"]
    assert found.evidence["count"] == 2 and found.value == 0.5 and found.severity == "warning"
    assert "2023-12-31" in found.message  # bounds shown as timestamps, not epoch seconds
    # the same instants in another time zone are the same instants
    tokyo = inside["ts"].dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo")
    assert contract.validate(pd.DataFrame({"ts": tokyo})) == []
    # YAML holds ISO-8601 timestamps, and round-trips to bounds that still hold
    path = tmp_path / "c.yaml"
    contract.to_yaml(path)
    assert "min: '2023-12-31T" in path.read_text()
    again = Contract.from_yaml(path)
    assert again.columns["ts"].min == pytest.approx(rule.min, abs=1e-6)
    assert again.validate(stamps) == []
    assert by_rule(again.validate(outside))["contract.range:ts"].evidence["count"] == 2


def test_datetime_bounds_written_by_hand(stamps):
    for bound in ("2024-01-05", "'2024-01-05T09:00:00+09:00'", str(pd.Timestamp("2024-01-05").timestamp())):
        contract = Contract.from_yaml(f"columns:\n  ts: {{kind: datetime, max: {bound}}}")
        found = by_rule(contract.validate(stamps))["contract.range:ts"]
        assert found.evidence["count"] == int((stamps["ts"] > pd.Timestamp("2024-01-05")).sum())


def test_datetime_rule_accepts_iso_strings_only(stamps):
    contract = Contract.infer(stamps)
    text = stamps["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S")  # how CSV and JSON carry timestamps
    assert contract.validate(pd.DataFrame({"ts": text})) == []
    late = text.copy()
    late.iloc[:4] = "2031-06-01T00:00:00"
    found = by_rule(contract.validate(pd.DataFrame({"ts": late})))
    expected = {"count": 4, "rows": 500, "examples": ["2031-06-01T00:00:00"]}
    assert found["contract.range:ts"].evidence == expected
    broken = text.copy()
    broken.iloc[:3] = "yesterday"
    found = by_rule(contract.validate(pd.DataFrame({"ts": broken})))
    assert found["contract.kind:ts"].severity == "critical"
    assert found["contract.kind:ts"].evidence["count"] == 3
    assert found["contract.kind:ts"].evidence["examples"] == ["yesterday"]


def test_boolean_and_categorical_rules():
    contract = Contract.infer(pd.DataFrame({"b": [True, False, True], "c": ["a", "b", None]}))
    assert contract.columns["b"].allowed == ["False", "True"] and contract.columns["c"].nullable
    assert contract.validate(pd.DataFrame({"b": [False, False, True], "c": [None, "b", "b"]})) == []
    mixed = pd.DataFrame({"b": [True, False, True], "c": pd.Series(["a", 7, "zz"], dtype=object)})
    found = by_rule(contract.validate(mixed))
    assert found["contract.category:c"].evidence["examples"] == ["7", "zz"]


def test_one_sided_bounds_and_target():
    contract = Contract.from_yaml(
        "outputs: {target: y}\n"
        "columns:\n  x: {kind: numeric, min: 0}\n  y: {kind: categorical, allowed: [a, b]}"
    )
    batch = pd.DataFrame({"x": [-1.0, 5.0, 1e9, np.inf]})
    found = by_rule(contract.validate(batch))  # the label column may be absent: labels arrive later
    assert set(found) == {"contract.range:x"} and found["contract.range:x"].evidence["count"] == 1
    found = by_rule(contract.validate(batch.assign(y=["a", "b", "c", "a"])))
    assert found["contract.category:y"].evidence["count"] == 1
    assert Contract.from_yaml(contract.to_yaml()).target == "y"


def test_infer_rejects_unknown_output_columns(reference):
    with pytest.raises(InputError, match="'label'"):
        Contract.infer(reference, target="label")


def test_validate_accepts_a_clean_service_sized_batch():
    """A 1,000-row × 22-column batch like the service's validates clean against its own contract."""
    rng = np.random.default_rng(2)
    n = 1_000
    data = {f"x{i}": rng.normal(size=n) for i in range(15)}
    data |= {f"c{i}": rng.choice(list("abcd"), n) for i in range(5)}
    data |= {"n": rng.integers(0, 9, n), "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), "s")}
    batch = pd.DataFrame(data)
    assert Contract.infer(batch).validate(batch) == []


def test_a_lone_value_past_an_inferred_range_is_info_many_are_a_warning():
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"calls": rng.poisson(2, 5_000)})
    contract = Contract.infer(reference)
    top = contract.columns["calls"].max
    batch = pd.DataFrame({"calls": rng.poisson(2, 5_000)}).clip(upper=int(top))
    batch.loc[0, "calls"] = int(top) + 5  # one tail value: the reference just never saw it
    (lone,) = contract.validate(batch)
    assert lone.check == "contract.range" and lone.severity == "info"
    batch.loc[:49, "calls"] = int(top) + 5  # 1 % of the rows: a real change
    (many,) = contract.validate(batch)
    assert many.severity == "warning" and many.evidence["count"] == 50
