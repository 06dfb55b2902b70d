"""``mlwarden retrain evaluate`` as a user runs it: real processes, real files, exit codes."""

import json

import pytest
from cli_process import mlwarden as run_cli
from gate_data import DESIGN_KEYS, scored

from mlwarden.retrain import gate


def mlwarden(*args, cwd=None):
    return run_cli("retrain", "evaluate", *args, cwd=cwd)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("gate")
    better = scored(n=8000, challenger_noise=0.5, worse_on="FR", worse_noise=1.8, seed=3)
    better["country"] = better["country"].replace({"IT": "<script>alert(1)</script>"})
    better.to_parquet(d / "segment.parquet")
    scored(n=4000, challenger_noise=0.6).to_csv(d / "better.csv", index=False)
    return d


def test_promote_exits_0_with_the_design_json(files):
    r = mlwarden(
        files / "better.csv",
        "--target",
        "churned",
        "--champion-score",
        "score_a",
        "--challenger-score",
        "score_b",
        "--slice",
        "country",
        "--format",
        "json",
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert list(data) == DESIGN_KEYS and data["decision"] == "promote" and data["test"] == "delong"
    frame = scored(n=4000, challenger_noise=0.6)
    expected = gate(frame, target="churned", champion="score_a", challenger="score_b", slices=["country"])
    assert data == json.loads(expected.to_json())


def test_a_segment_regression_exits_1_naming_it(files, tmp_path):
    args = [
        files / "segment.parquet",
        "--target",
        "churned",
        "--champion-score",
        "score_a",
        "--challenger-score",
        "score_b",
        "--slice",
        "country",
    ]
    r = mlwarden(*args, "-f", "json", "-o", tmp_path / "d.json")
    assert r.returncode == 1, r.stderr
    data = json.loads((tmp_path / "d.json").read_text())
    assert data["decision"] == "reject" and data["delta"] > 0
    assert [s["value"] for s in data["slices"] if s["regressed"]] == ["FR"]
    assert any(reason.startswith("challenger is worse on country=FR by") for reason in data["reasons"])
    text = mlwarden(*args)
    assert text.returncode == 1
    assert "decision: reject" in text.stdout and "regressed" in text.stdout
    assert "challenger is worse on country=FR" in text.stdout


def test_label_metrics_read_the_prediction_columns(files):
    r = mlwarden(
        files / "better.csv",
        "--target",
        "churned",
        "--champion-score",
        "score_a",
        "--challenger-score",
        "score_b",
        "--champion-prediction",
        "pred_a",
        "--challenger-prediction",
        "pred_b",
        "--metric",
        "accuracy",
        "--confidence",
        "0.9",
        "-f",
        "json",
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["metric"] == "accuracy" and data["test"] == "mcnemar"


def test_identical_models_hold_and_exit_1(files):
    r = mlwarden(
        files / "better.csv",
        "--target",
        "churned",
        "--champion-score",
        "score_b",
        "--challenger-score",
        "score_b",
        "--metric",
        "f1",
        "-f",
        "json",
    )
    assert r.returncode == 1
    assert json.loads(r.stdout)["decision"] == "hold"


def test_bootstrap_first_is_an_explicit_flag(files):
    args = [files / "better.csv", "--target", "churned", "--challenger-score", "score_b", "-f", "json"]
    refused = mlwarden(*args)
    assert refused.returncode == 2 and "--bootstrap-first" in refused.stderr
    r = mlwarden(*args, "--bootstrap-first")
    assert r.returncode == 0
    data = json.loads(r.stdout)
    assert data["test"] == "none" and data["champion"] is None and "bootstrap-first" in data["reasons"][0]


def test_html_decision_record_is_self_contained_and_escaped(files, tmp_path):
    r = mlwarden(
        files / "segment.parquet",
        "--target",
        "churned",
        "--champion-score",
        "score_a",
        "--challenger-score",
        "score_b",
        "--slice",
        "country",
        "-f",
        "html",
        "-o",
        tmp_path / "d.html",
    )
    assert r.returncode == 1 and "wrote" in r.stdout
    html = (tmp_path / "d.html").read_text()
    assert html.startswith("<!doctype html>") and "reject" in html and "regressed" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "http" not in html  # nothing loaded from elsewhere


@pytest.mark.parametrize(
    "args, message",
    [
        (["--champion-score", "score_a", "--challenger-score", "nope"], "challenger: no column 'nope'"),
        (
            ["--champion-score", "score_a", "--challenger-score", "score_b", "--metric", "auc"],
            "--metric: unknown",
        ),
        (
            ["--champion-prediction", "pred_a", "--challenger-score", "score_b"],
            "--champion-score: a score metric",
        ),
        (["--champion-score", "score_a"], "--challenger-score: the challenger's column is required"),
        (
            ["--champion-score", "score_a", "--challenger-score", "score_b", "--confidence", "95"],
            "confidence",
        ),
        (
            ["--champion-score", "score_a", "--challenger-score", "score_b", "--slice", "tenure"],
            "distinct values",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(files, args, message):
    r = mlwarden(files / "better.csv", "--target", "churned", *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_missing_file_exits_2(tmp_path):
    r = mlwarden(
        tmp_path / "none.parquet", "--target", "y", "--champion-score", "a", "--challenger-score", "b"
    )
    assert r.returncode == 2 and "no such file" in r.stderr
