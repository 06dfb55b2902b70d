"""`mlwarden contract infer|validate` and `mlwarden check --contract`, run as a user runs them."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_process import mlwarden
from typer.testing import CliRunner

from mlwarden.cli import app


def run(*args):
    """In-process (fast) for the commands' own exit codes 0 and 1."""
    result = CliRunner().invoke(app, list(map(str, args)))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("contract")
    rng = np.random.default_rng(0)
    n = 2_000
    ref = pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "plan": rng.choice(["basic", "pro"], n),
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30 * 86_400, n), "s"),
            "score": rng.random(n),
            "pred": rng.choice(["yes", "no"], n),
            "y": rng.integers(0, 2, n),
        }
    )
    ref.to_parquet(d / "ref.parquet")
    batch = ref.iloc[:200].drop(columns="y")
    batch.to_csv(d / "clean.csv", index=False)  # timestamps as text, no label column
    bad = batch.copy()
    bad.loc[bad.index[:5], "age"] = 500
    bad.loc[bad.index[:3], "ts"] = pd.Timestamp("2031-01-01")
    bad.to_csv(d / "ranges.csv", index=False)
    bad.drop(columns="plan").assign(extra=1).to_csv(d / "columns.csv", index=False)
    result = run(
        "contract", "infer", d / "ref.parquet", "--output", d / "contract.yaml",
        "--prediction", "pred", "--score", "score", "--target", "y",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return d


def test_infer_writes_editable_yaml(files):
    data = yaml.safe_load((files / "contract.yaml").read_text())
    assert data["outputs"] == {"prediction": "pred", "scores": ["score"], "target": "y"}
    assert data["columns"]["plan"]["allowed"] == ["basic", "pro"]
    assert data["columns"]["ts"]["min"].startswith("2023-12-")  # a timestamp a human can edit
    assert data["columns"]["score"]["min"] == 0.0 and data["columns"]["score"]["max"] == 1.0


def test_validate_clean_data_exits_0(files):
    result = run("contract", "validate", files / "contract.yaml", files / "clean.csv")
    assert result.exit_code == 0, result.output
    assert "200 rows satisfy all 6 column rules" in result.stdout


def test_validate_reports_each_rule_with_counts_and_examples(files):
    result = run("contract", "validate", files / "contract.yaml", files / "ranges.csv", "--format", "json")
    assert result.exit_code == 0, result.output  # range violations are warnings
    data = json.loads(result.stdout)
    assert data["data"] == {"source": str(files / "ranges.csv"), "rows": 200}
    found = {f["check"] + ":" + f["column"]: f for f in data["findings"]}
    assert set(found) == {"contract.range:age", "contract.range:ts"}
    assert found["contract.range:age"]["evidence"] == {"count": 5, "rows": 200, "examples": ["500"]}
    assert found["contract.range:ts"]["value"] == pytest.approx(0.015)
    assert data["counts"] == {"info": 0, "warning": 2, "critical": 0}
    text = run("contract", "validate", files / "contract.yaml", files / "ranges.csv").stdout
    assert "range" in text and "2.5%" in text and "500" in text


def test_validate_critical_findings_exit_1(files):
    result = run("contract", "validate", files / "contract.yaml", files / "columns.csv", "-f", "json")
    assert result.exit_code == 1, result.output
    found = {(f["check"], f["column"], f["severity"]) for f in json.loads(result.stdout)["findings"]}
    assert ("contract.missing_column", "plan", "critical") in found
    assert ("contract.extra_column", "extra", "critical") in found


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["contract", "validate", "missing.yaml", "clean.csv"], "no such contract file"),
        (["contract", "validate", "contract.yaml", "nothing.csv"], "no such file"),
        (["contract", "validate", "broken.yaml", "clean.csv"], "columns.age.kind"),
        (["contract", "validate", "contract.yaml", "ref.profile"], "saved profile"),
        (["contract", "infer", "ref.parquet", "-o", "x.yaml", "--score", "nope"], "'nope'"),
    ],
)
def test_bad_input_exits_2_with_one_line(files, args, message):
    (files / "broken.yaml").write_text("columns:\n  age: {kind: number}\n")
    if not (files / "ref.profile").exists():
        assert run("profile", files / "ref.parquet", "-o", files / "ref.profile").exit_code == 0
    suffixes = (".yaml", ".csv", ".parquet", ".profile")
    result = mlwarden(*[files / a if a.endswith(suffixes) else a for a in args])
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_infer_from_a_saved_profile(files):
    run("profile", files / "ref.parquet", "-o", files / "ref.profile")
    options = ("--prediction", "pred", "--score", "score", "--target", "y")
    result = run("contract", "infer", files / "ref.profile", "-o", files / "from_profile.yaml", *options)
    assert result.exit_code == 0, result.output
    assert (files / "from_profile.yaml").read_text() == (files / "contract.yaml").read_text()


def test_check_with_contract_adds_its_findings(files):
    contract = ("--contract", files / "contract.yaml")
    result = mlwarden("check", files / "ref.parquet", files / "columns.csv", *contract, "-f", "json")
    assert result.returncode == 1, result.stderr
    checks = {(f["check"], f["column"]) for f in json.loads(result.stdout)["findings"]}
    assert {("contract.range", "age"), ("contract.extra_column", "extra")} <= checks
    bad = mlwarden("check", files / "ref.parquet", files / "clean.csv", "--contract", files / "broken.yaml")
    assert bad.returncode == 2 and "columns.age.kind" in bad.stderr
