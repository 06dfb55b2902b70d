"""The command line as a user runs it: real processes, real files, exit codes."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest


def mlwarden(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mlwarden", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


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
