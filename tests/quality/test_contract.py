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
        ("columns:\n  x: {kind: numeric, min: low, max: 3}", "columns.x.min/max"),
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
