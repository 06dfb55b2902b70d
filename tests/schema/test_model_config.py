"""The model configuration file: the sections used offline, and errors that name their path."""

import pytest

from mlwarden.errors import InputError
from mlwarden.schema import ColumnDriftSpec, ColumnMapping
from mlwarden.schema.config import ModelConfig, parse_slo

DESIGN_EXAMPLE = """
model: churn
owner: {name: Ada Lovelace, email: ada@example.com, team: growth}
runbook: https://wiki.example.com/runbooks/churn
window: 1h
columns:
  target: churned
  prediction: churn_predicted
  scores: churn_score
  positive_label: 1
  id: customer_id
  timestamp: event_time
  ignore: [request_id]
  categorical: [region_code]
  segments: [country, plan]
drift: {columns: {monthly_charges: {method: psi, threshold: 0.2}}}
slo: {roc_auc: {min: 0.78}, accuracy: {min: 0.80}}
alerts:
  receivers:
    owner: {email: ada@example.com}
  route: {receiver: owner, group_by: [model, check]}
retrain:
  triggers: {slo_breach_windows: 2}
"""


def test_the_design_example_is_valid(tmp_path):
    path = tmp_path / "churn.yaml"
    path.write_text(DESIGN_EXAMPLE)
    config = ModelConfig.from_yaml(path)
    assert config.model == "churn" and config.slo_limits() == {"roc_auc": 0.78, "accuracy": 0.80}
    mapping = config.mapping
    assert isinstance(mapping, ColumnMapping)
    assert (mapping.target, mapping.score_columns, mapping.positive_label) == ("churned", ["churn_score"], 1)
    assert mapping.drift == {"monthly_charges": ColumnDriftSpec(method="psi", threshold=0.2)}
    assert config.alerts.route.receivers == ["owner"]
    assert config.alerts.receivers["owner"].email.to == ["ada@example.com"]


def test_an_empty_file_is_an_empty_config(tmp_path):
    (tmp_path / "empty.yaml").write_text("")
    config = ModelConfig.from_yaml(tmp_path / "empty.yaml")
    assert config.mapping == ColumnMapping() and config.slo_limits() == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"columns": {"target": "y", "prediction": "y"}}, "m.yaml: columns: column 'y' has two roles"),
        ({"columns": {"scores": {}}}, "m.yaml: columns.scores: expected at least one score column"),
        (
            {"slo": {"roc_auc": {"min": 0.7, "max": 0.9}}},
            "m.yaml: slo.roc_auc: give exactly one of min or max",
        ),
        ({"slo": {"rmse": {"min": 1}}}, "m.yaml: slo.rmse.min: rmse is lower-is-better: give max, not min"),
        ({"slo": {"auc": {"min": 0.7}}}, "m.yaml: slo.auc.min: unknown metric 'auc'"),
        (
            {"drift": {"columns": {"x": {"threshold": -1}}}},
            "m.yaml: drift.columns.x.threshold: Input should be",
        ),
        ({"drift": {"x": {"threshold": 1}}}, "m.yaml: drift.x: unknown field"),
        (["columns"], "m.yaml: expected a mapping of sections at the top, got list"),
    ],
)
def test_errors_name_the_path(data, message):
    with pytest.raises(InputError) as err:
        ModelConfig.from_dict(data, source="m.yaml")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("roc_auc>=0.78", ("roc_auc", 0.78)), ("mae <= 3", ("mae", 3.0)), ("f1>=1e-1", ("f1", 0.1))],
)
def test_slo_expressions(text, parsed):
    assert parse_slo(text) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roc_auc=0.78", "expected METRIC>=X or METRIC<=X"),
        ("roc_auc>=high", "'high' is not a number"),
        ("roc_auc<=0.9", "roc_auc is higher-is-better: give min, not max"),
        ("gini>=0.5", "unknown metric 'gini'"),
        # a percent for a fraction: every window breached it, critical forever
        ("roc_auc>=78", r"roc_auc lies in \[0, 1\]: expected a limit between 0 and 1, got 78$"),
        ("recall>=-0.1", r"recall lies in \[0, 1\]: expected a limit between 0 and 1, got -0.1$"),
        ("mae<=-1", "mae is an error ≥ 0: expected a finite limit ≥ 0, got -1$"),
        ("rmse<=nan", "rmse is an error ≥ 0: expected a finite limit ≥ 0, got nan$"),
    ],
)
def test_bad_slo_expressions(text, message):
    with pytest.raises(InputError, match=message):
        parse_slo(text)


@pytest.mark.parametrize(
    ("slo", "message"),
    [
        ({"roc_auc": {"min": 78}}, "m.yaml: slo.roc_auc.min: roc_auc lies in [0, 1]: expected a limit"),
        ({"f1": {"min": 0.7, "segments": {"*": 1.5}}}, "m.yaml: slo.f1.segments.*: f1 lies in [0, 1]"),
        ({"mape": {"max": -0.2}}, "m.yaml: slo.mape.max: mape is an error ≥ 0: expected a finite limit ≥ 0"),
    ],
)
def test_slo_limits_outside_the_metric_s_range_name_the_path(slo, message):
    with pytest.raises(InputError) as err:
        ModelConfig.from_dict({"slo": slo}, source="m.yaml")
    assert str(err.value).startswith(message)


def test_an_unknown_drift_method_is_an_error_when_the_file_is_read(tmp_path):
    """The file is validated as a whole before anything runs: a misspelt method names the file and path."""
    path = tmp_path / "wine.yaml"
    path.write_text("columns: {target: y}\ndrift: {columns: {proline: {method: bogus}}}\n")
    with pytest.raises(InputError, match=r"^.*wine\.yaml: drift\.columns\.proline\.method: expected one of "):
        ModelConfig.from_yaml(path)
    with pytest.raises(InputError, match=r"^columns\.drift\.x\.method: expected one of .*got 'bogus'$"):
        ColumnMapping.from_dict({"drift": {"x": {"method": "bogus"}}})
    assert ColumnDriftSpec(method="psi", threshold=0.2).method == "psi"
