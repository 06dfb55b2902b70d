"""Property tests of the parsers of user input not covered by tests/server/test_bodies_properties.py: model
configurations (``ModelConfig.from_dict``, YAML files), data contracts (YAML text, then validating a batch
with them), saved profiles (``DatasetProfile.from_bytes``, whatever bytes) and CSV reference bodies. Each
returns its value or raises InputError — never anything else. Examples are derandomized (conftest)."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlwarden as mw
from mlwarden.errors import InputError
from mlwarden.quality import Contract
from mlwarden.schema.config import ModelConfig
from mlwarden.server import limits
from mlwarden.server.reference import read_reference

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
names = st.sampled_from(["x", "plan", "score", "prediction", "id", "target", "y", "p", ""]) | st.text(
    max_size=5
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["psi", "ks", "chi2", "numeric", "categorical", "1h", "-1", "nan", "inf", ">= 0.8"])
)
trees = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(names, children, max_size=4),
    max_leaves=15,
)


def _sections() -> st.SearchStrategy[dict]:
    """Configurations shaped like real ones (known sections and keys), with any values inside."""
    column_keys = st.sampled_from(
        ["id", "timestamp", "target", "prediction", "scores", "ignore", "categorical", "numeric", "drift"]
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "columns": st.dictionaries(column_keys, trees, max_size=4) | trees,
            "drift": st.fixed_dictionaries(
                {},
                optional={
                    "columns": st.dictionaries(
                        names,
                        st.dictionaries(st.sampled_from(["method", "threshold", "bins"]), trees, max_size=3),
                        max_size=3,
                    )
                },
            )
            | trees,
            "slo": st.dictionaries(
                st.sampled_from(["roc_auc", "accuracy", "mae", "rmse", "bogus"]) | names,
                st.dictionaries(st.sampled_from(["min", "max"]), trees, max_size=2) | trees,
                max_size=3,
            )
            | trees,
            "model": trees,
            "window": trees,
            "owner": trees,
            "alerts": trees,
            "retrain": trees,
        },
    )


@given(data=_sections() | trees)
@SETTINGS
def test_model_configs_validate_or_raise_input_error(data) -> None:
    try:
        config = ModelConfig.from_dict(data, source="model.yaml")
    except InputError as exc:
        assert "\n" not in str(exc).strip() or str(exc).startswith("model.yaml")
        return
    config.mapping  # noqa: B018 - merging the drift section must not fail once validated
    config.slo_limits()


@given(text=st.text(max_size=200) | _sections().map(yaml.safe_dump))
@SETTINGS
def test_model_config_files_load_or_raise_input_error(text: str, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("config") / "model.yaml"
    path.write_text(text, encoding="utf-8")
    with contextlib.suppress(InputError):
        ModelConfig.from_yaml(path)


rules = st.dictionaries(
    st.sampled_from(["kind", "min", "max", "allowed", "nullable", "max_missing", "pattern", "dtype"]) | names,
    trees,
    max_size=4,
)
contracts = st.fixed_dictionaries(
    {"columns": st.dictionaries(names, rules | trees, max_size=4)},
    optional={"version": trees, "outputs": trees},
).map(lambda c: yaml.safe_dump(c, allow_unicode=True))
BATCH = pd.DataFrame(
    {"x": [1.0, np.nan, 3.0], "plan": ["a", None, "b"], "score": [0.1, 0.9, 2.0], "prediction": [0, 1, 1]}
)


@given(text=contracts | st.text(max_size=200))
@SETTINGS
def test_contracts_parse_or_raise_input_error_and_validate_batches(text: str) -> None:
    try:
        contract = Contract.from_yaml_text(text)
    except InputError:
        return
    for finding in contract.validate(BATCH):  # a contract that parsed judges any batch without raising
        assert finding.check and finding.message


PROFILE = mw.profile(BATCH.assign(x=np.arange(3.0)), seed=0).to_bytes()


@st.composite
def damaged(draw) -> bytes:
    """A saved profile cut, overwritten or extended at random places."""
    data = bytearray(PROFILE)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["cut", "flip", "insert", "truncate"]))
        if edit == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at:]
    return bytes(data)


@given(blob=damaged() | st.binary(max_size=300) | st.just(PROFILE[:8]) | st.just(PROFILE))
@settings(max_examples=400, deadline=None)
def test_profile_blobs_load_or_raise_input_error(blob: bytes) -> None:
    try:
        loaded = mw.DatasetProfile.from_bytes(blob)
    except InputError:
        return
    assert loaded.rows >= 0
    mw.DatasetProfile.from_bytes(loaded.to_bytes())  # what loaded saves again


csv_cells = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6) | st.sampled_from(
    ["", "nan", "1e400", "-0", "1,5", '"', '""', "\\N", "2026-01-01", "\x00"]
)


@given(
    rows=st.lists(st.lists(csv_cells, min_size=1, max_size=4), min_size=1, max_size=6),
    separator=st.sampled_from([",", ";", "\t"]),
    raw=st.binary(max_size=200),
)
@SETTINGS
def test_csv_reference_bodies_read_and_profile_or_raise_input_error(rows, separator: str, raw: bytes) -> None:
    """What the reference route does before storing: read the body, check names and text, profile."""
    for body in ("\n".join(separator.join(row) for row in rows).encode(), raw):
        try:
            frame = read_reference(body, "text/csv")
            limits.check_names(map(str, frame.columns), "reference")
            limits.check_frame_text(frame)
            mw.profile(frame, seed=0)
        except InputError:
            continue


def test_contract_outputs_must_name_columns() -> None:
    """The kind of this module's find: ``outputs: {prediction: []}`` raised TypeError (a 500 through
    ``PUT /v1/models/{name}/contract``); a score column named alone is one name, not its letters."""
    columns = "columns: {p: {kind: numeric}, s: {kind: numeric}}\n"
    for outputs, message in (
        ("{prediction: []}", "contract: outputs.prediction must be a column name, got list"),
        ("{target: {a: 1}}", "contract: outputs.target must be a column name, got dict"),
        ("{scores: [s, [p]]}", "contract: outputs.scores must be a column name, got list"),
        ("{scores: true}", "contract: outputs.scores must be a column name, got bool"),
    ):
        try:
            Contract.from_yaml_text(columns + "outputs: " + outputs)
        except InputError as exc:
            assert str(exc) == message
        else:
            raise AssertionError(f"outputs {outputs} accepted")
    assert Contract.from_yaml_text(columns + "outputs: {scores: s, prediction: p}").scores == ["s"]
