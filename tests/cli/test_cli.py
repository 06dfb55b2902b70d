"""The command line as a user runs it: real processes, real files, exit codes."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from cli_process import mlwarden
from sklearn.metrics import accuracy_score, roc_auc_score

import mlwarden as mw


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    n = 4_000
    ref = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(list("abc"), n), "y": rng.integers(0, 2, n)})
    ref.to_parquet(d / "ref.parquet")
    ref.sample(frac=1, random_state=1).to_csv(d / "same.csv", index=False)
    ref.assign(x=ref["x"] + 1.5).to_csv(d / "shifted.csv", index=False)
    (d / "empty.csv").write_text("")
    (d / "other.csv").write_text("p,q\n1,2\n")
    (d / "junk.parquet").write_text("not parquet")
    return d


def test_check_json_on_stdout_exit_0(files):
    r = mlwarden("check", files / "ref.parquet", files / "same.csv", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["drift"]["drifted_columns"] == [] and data["current"]["rows"] == 4000


def test_a_current_too_small_for_the_domain_classifier_reads_skipped_not_auc_nan_ok(files, tmp_path):
    # the classifier's NaN AUC reached the report as a score: "ROC AUC nan (threshold 0.55) → ok"
    pd.read_csv(files / "same.csv").head(5).to_csv(tmp_path / "five.csv", index=False)
    r = mlwarden("check", files / "ref.parquet", tmp_path / "five.csv")
    assert r.returncode == 0, r.stderr
    assert "nan" not in r.stdout and "domain-classifier" not in r.stdout
    mv = mw.compare(files / "ref.parquet", tmp_path / "five.csv").drift.multivariate
    assert mv.score is None and mv.p_value is None and not mv.drifted
    assert mv.note == "needs at least 30 sampled rows per side and one column" and mv.n_current == 5


def test_check_exits_1_on_critical_drift_and_writes_outputs(files, tmp_path):
    r = mlwarden(
        "check", files / "ref.parquet", files / "shifted.csv", "-f", "json", "-o", tmp_path / "r.json"
    )
    assert r.returncode == 1
    assert json.loads((tmp_path / "r.json").read_text())["drift"]["drifted_columns"] == ["x"]
    r = mlwarden(
        "check", files / "ref.parquet", files / "shifted.csv", "-f", "html", "-o", tmp_path / "r.html"
    )
    assert r.returncode == 1 and (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    r = mlwarden("check", files / "ref.parquet", files / "shifted.csv")
    assert r.returncode == 1 and "drifted" in r.stdout


@pytest.mark.parametrize(
    ("current", "extra", "message"),
    [
        ("missing.csv", [], "no such file"),
        ("empty.csv", [], "file is empty"),
        ("junk.parquet", [], "cannot read as parquet"),
        ("other.csv", [], "share no columns"),
        ("same.csv", ["--target", "nope"], "column 'nope'"),
    ],
)
def test_bad_input_exits_2_with_one_line(files, current, extra, message):
    r = mlwarden("check", files / "ref.parquet", files / current, *extra)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_profile_then_check_against_the_saved_profile(files, tmp_path):
    r = mlwarden("profile", files / "ref.parquet", "--output", tmp_path / "ref.mlwprof")
    assert r.returncode == 0 and "4,000 rows" in r.stdout
    r = mlwarden("check", tmp_path / "ref.mlwprof", files / "shifted.csv", "-f", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["drift"]["drifted_columns"] == ["x"]
    (tmp_path / "broken.mlwprof").write_bytes((tmp_path / "ref.mlwprof").read_bytes()[:-5])
    r = mlwarden("check", tmp_path / "broken.mlwprof", files / "shifted.csv")
    assert r.returncode == 2 and "truncated or corrupted" in r.stderr


def labelled_reference(files, tmp_path, rng: np.random.Generator) -> pd.DataFrame:
    """The shared reference with a calibrated score of ``x`` and labels drawn from it, as ref.parquet."""
    ref = pd.read_parquet(files / "ref.parquet")
    ref["score"] = 1 / (1 + np.exp(-2 * ref["x"]))
    ref["y"] = (rng.random(len(ref)) < ref["score"]).astype(int)
    ref.to_parquet(tmp_path / "ref.parquet")
    return ref


def test_current_without_labels_yet_exits_0_with_an_estimate(files, tmp_path):
    ref = labelled_reference(files, tmp_path, np.random.default_rng(3))
    ref.drop(columns="y").sample(frac=0.5, random_state=2).to_csv(tmp_path / "unlabelled.csv", index=False)
    r = mlwarden(
        "check", tmp_path / "ref.parquet", tmp_path / "unlabelled.csv", "--target", "y", "--score", "score"
    )
    assert r.returncode == 0, r.stdout
    assert "estimated (no labels)" in r.stdout and "target drift not tested" in r.stdout
    r = mlwarden(
        "check",
        tmp_path / "ref.parquet",
        tmp_path / "unlabelled.csv",
        "--target",
        "y",
        "--score",
        "score",
        "-f",
        "json",
    )
    data = json.loads(r.stdout)
    assert data["drift"]["target"] == [] and [c["column"] for c in data["drift"]["outputs"]] == ["score"]
    assert [f for f in data["findings"] if f["severity"] == "critical"] == []
    assert 0.5 < data["performance"]["estimated"]["roc_auc"] < 1


def test_slo_makes_a_performance_collapse_critical(files, tmp_path):
    rng = np.random.default_rng(4)
    ref = labelled_reference(files, tmp_path, rng)
    cur = ref.sample(frac=0.5, random_state=3)
    cur["y"] = rng.integers(0, 2, len(cur))  # labels no longer follow the score: the model is useless
    cur.to_csv(tmp_path / "cur.csv", index=False)
    auc = roc_auc_score(cur["y"], cur["score"])
    args = ("check", tmp_path / "ref.parquet", tmp_path / "cur.csv", "--target", "y", "--score", "score")
    r = mlwarden(*args, "--slo", "roc_auc>=0.78", "-f", "json")
    assert r.returncode == 1
    breach = [f for f in json.loads(r.stdout)["findings"] if f["check"] == "performance.realized"]
    assert breach[0]["severity"] == "critical" and breach[0]["threshold"] == 0.78
    assert breach[0]["value"] == pytest.approx(auc)
    r = mlwarden(*args, "--slo", "roc_auc>=0.78")  # text: the performance table, realized with its band
    row = next(line for line in r.stdout.splitlines() if line.strip("│ ").startswith("roc_auc"))
    assert re.search(rf"{auc:.3f} \[0\.\d{{3}}, 0\.\d{{3}}\]", row), row
    assert re.search(r"critical performance.realized +realized roc_auc", r.stdout)
    r = mlwarden(*args, "--slo", "roc_auc>0.78")
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: --slo 'roc_auc>0.78': expected METRIC>=X or METRIC<=X, e.g. roc_auc>=0.78"
    ]


def test_config_file_gives_the_mapping_drift_settings_and_slo(tmp_path):
    rng = np.random.default_rng(5)
    n = 3_000
    ref = pd.DataFrame({"account": np.arange(n), "x": rng.normal(size=n), "code": rng.integers(0, 5, n)})
    ref["p_yes"] = 1 / (1 + np.exp(-2 * ref["x"]))
    ref["label"] = (rng.random(n) < ref["p_yes"]).astype(int)
    cur = ref.assign(account=ref["account"] + n, x=ref["x"] + 0.1)
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    (tmp_path / "model.yaml").write_text(
        "model: churn\n"
        "owner: {name: Ada, email: ada@example.com}\n"
        "columns: {target: label, scores: p_yes, id: account, categorical: [code]}\n"
        "drift: {columns: {x: {threshold: 0.5}}}\n"
        "slo: {roc_auc: {min: 0.99}}\n"
        "alerts: {receivers: {owner: {email: ada@example.com}}}\n"
    )
    r = mlwarden(
        "check",
        tmp_path / "ref.parquet",
        tmp_path / "cur.parquet",
        "--config",
        tmp_path / "model.yaml",
        "-f",
        "json",
    )
    data = json.loads(r.stdout)
    assert data["mapping"] == {
        "target": "label",
        "scores": "p_yes",
        "id": "account",
        "categorical": ["code"],
        "drift": {"x": {"threshold": 0.5}},
    }
    x = next(c for c in data["drift"]["columns"] if c["column"] == "x")
    assert x["threshold"] == 0.5 and not x["drifted"]  # the file's threshold, not the default 0.05
    assert [c["column"] for c in data["drift"]["columns"]] == ["x", "code"]
    assert r.returncode == 1  # realized ROC AUC ≈ 0.83 breaches the file's SLO of 0.99
    r = mlwarden(
        "check",
        tmp_path / "ref.parquet",
        tmp_path / "cur.parquet",
        "--config",
        tmp_path / "model.yaml",
        "--slo",
        "roc_auc>=0.5",
        "--ignore",
        "code",
        "-f",
        "json",
    )  # flags override the file
    data = json.loads(r.stdout)
    assert r.returncode == 0 and data["mapping"]["ignore"] == ["code"]
    assert [c["column"] for c in data["drift"]["columns"]] == ["x"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("columns: {scores: []}\n", "columns.scores: expected at least one score column"),
        ("slo: {roc_auc: {min: high}}\n", "slo.roc_auc.min: Input should be a valid number"),
        ("slo: {mae: {min: 3}}\n", "slo.mae.min: mae is lower-is-better: give max, not min"),
        ("colums: {target: y}\n", "colums: unknown field"),
        ("columns: [y]\n", "columns: Input should be a valid dictionary"),
        ("columns: {target: y\n", "not valid YAML"),
    ],
)
def test_bad_config_file_exits_2_naming_the_path(files, tmp_path, text, message):
    (tmp_path / "model.yaml").write_text(text)
    r = mlwarden("check", files / "ref.parquet", files / "same.csv", "--config", tmp_path / "model.yaml")
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_multiclass_scores_as_class_column_pairs(tmp_path):
    rng = np.random.default_rng(6)
    n = 3_000
    logits = rng.normal(size=(n, 3))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array(["cat", "dog", "emu"])
    frame = pd.DataFrame(
        {"f": logits[:, 0], "p_cat": proba[:, 0], "p_dog": proba[:, 1], "p_emu": proba[:, 2]}
    )
    frame["animal"] = labels[(proba.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)]
    frame["guess"] = labels[proba.argmax(axis=1)]
    frame.iloc[:2_000].to_parquet(tmp_path / "ref.parquet")
    frame.iloc[2_000:].to_parquet(tmp_path / "cur.parquet")
    r = mlwarden(
        "check",
        tmp_path / "ref.parquet",
        tmp_path / "cur.parquet",
        "--target",
        "animal",
        "--prediction",
        "guess",
        "--score",
        "cat=p_cat",
        "--score",
        "dog=p_dog",
        "--score",
        "emu=p_emu",
        "-f",
        "json",
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["mapping"]["scores"] == {"cat": "p_cat", "dog": "p_dog", "emu": "p_emu"}
    assert [c["column"] for c in data["drift"]["outputs"]] == ["guess", "p_cat", "p_dog", "p_emu"]
    cur = frame.iloc[2_000:]
    assert data["performance"]["realized"]["accuracy"] == pytest.approx(
        accuracy_score(cur["animal"], cur["guess"])
    )
    r = mlwarden(
        "check",
        tmp_path / "ref.parquet",
        tmp_path / "cur.parquet",
        "--score",
        "cat=p_cat",
        "--score",
        "p_dog",
    )
    assert r.returncode == 2 and "not both" in r.stderr


def test_id_ignore_and_kind_flags(files, tmp_path):
    rng = np.random.default_rng(7)
    n = 2_000
    ref = pd.DataFrame({"rid": np.arange(n), "noise": rng.normal(size=n), "x": rng.normal(size=n)})
    cur = ref.assign(rid=ref["rid"] + n, noise=ref["noise"] + 3)
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    r = mlwarden(
        "check",
        tmp_path / "ref.parquet",
        tmp_path / "cur.parquet",
        "--id",
        "rid",
        "--ignore",
        "noise",
        "-f",
        "json",
    )
    data = json.loads(r.stdout)
    assert r.returncode == 0, data["findings"]
    assert [c["column"] for c in data["drift"]["columns"]] == ["x"]
    assert [(f["check"], f["severity"], f["column"]) for f in data["findings"]] == [("drift", "info", "rid")]


def test_integer_named_parquet_files(tmp_path):
    rng = np.random.default_rng(8)
    ref, cur = pd.DataFrame(rng.normal(size=(2_000, 3))), pd.DataFrame(rng.normal(size=(2_000, 3)))
    cur[1] += 1
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    assert pd.read_parquet(tmp_path / "cur.parquet").columns.tolist() == [0, 1, 2]  # names stay integers
    r = mlwarden("check", tmp_path / "ref.parquet", tmp_path / "cur.parquet", "-f", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["drift"]["drifted_columns"] == ["1"]
    r = mlwarden("profile", tmp_path / "ref.parquet", "-o", tmp_path / "ref.mlwprof")
    r = mlwarden("check", tmp_path / "ref.mlwprof", tmp_path / "cur.parquet", "-f", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["drift"]["drifted_columns"] == ["1"]


def test_header_only_current_is_one_critical_finding(files, tmp_path):
    (tmp_path / "header.csv").write_text("x,c,y\n")
    r = mlwarden("check", files / "ref.parquet", tmp_path / "header.csv", "-f", "json")
    assert r.returncode == 1
    findings = json.loads(r.stdout)["findings"]
    assert [(f["check"], f["severity"]) for f in findings] == [("data.empty", "critical")]
    r = mlwarden("check", tmp_path / "header.csv", files / "ref.parquet")
    assert r.returncode == 2 and "reference has no rows" in r.stderr


def test_piped_text_is_not_cut_at_80_columns(tmp_path):
    long = "a_feature_with_a_really_long_descriptive_name_as_warehouses_like_to_produce_them_for_everyone"
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({long: rng.normal(size=2_000), "x": rng.normal(size=2_000)})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    ref.assign(**{long: ref[long] + 2}).to_csv(tmp_path / "cur.csv", index=False)
    r = mlwarden("check", tmp_path / "ref.csv", tmp_path / "cur.csv")
    assert r.returncode == 1
    finding = [line for line in r.stdout.splitlines() if "critical" in line and long in line]
    assert finding and "normalised Wasserstein" in finding[0]  # the whole message on one line
    assert any(long in line and "drifted" in line for line in r.stdout.splitlines())  # the table row


CRASH = (
    "import sys, mlwarden.comparison as c\n"
    "def broken(*args, **kwargs):\n"
    "    raise RuntimeError('deliberately broken evaluate')\n"
    "c.evaluate = broken\n"
    "from mlwarden.cli import main\n"
    "sys.argv = ['mlwarden', *sys.argv[1:]]\n"
    "main()\n"
)


def test_internal_error_exits_3_with_one_line(files):
    """A bug is not a finding: exit 3 (never 1), one line, the traceback only when asked for."""
    args = [sys.executable, "-c", CRASH]
    data = [str(files / "ref.parquet"), str(files / "same.csv")]
    r = subprocess.run([*args, "check", *data], capture_output=True, text=True, timeout=300)
    assert r.returncode == 3
    assert r.stderr.strip().splitlines() == [
        "internal error: RuntimeError: deliberately broken evaluate; rerun with --debug for the traceback"
    ]
    for extra, env in (
        (["--debug", "check"], {}),
        (["check", "--debug"], {}),
        (["check"], {"MLWARDEN_DEBUG": "1"}),
    ):
        r = subprocess.run(
            [*args, *extra, *data], capture_output=True, text=True, timeout=300, env={**os.environ, **env}
        )
        assert r.returncode == 3 and "Traceback" in r.stderr and "deliberately broken" in r.stderr
