"""`mlwarden skew` and `mlwarden leakage` as a user runs them: real processes, real files, exit codes."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_process import mlwarden


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("features")
    rng = np.random.default_rng(0)
    n = 3_000
    offline = pd.DataFrame({"id": np.arange(n), "x": rng.normal(size=n), "c": rng.choice(list("abc"), n)})
    offline.to_parquet(d / "offline.parquet")
    offline.sample(frac=1, random_state=1).to_csv(d / "online_same.csv", index=False)
    offline.assign(x=offline["x"].round(1)).to_csv(d / "online_rounded.csv", index=False)
    y = rng.integers(0, 2, n)
    train = pd.DataFrame({"a": rng.normal(size=n) + y, "b": rng.normal(size=n), "y": y})
    train["split"] = np.where(rng.random(n) < 0.8, "train", "test")
    train.to_csv(d / "clean.csv", index=False)
    train.assign(leak=y * 2.0 + rng.normal(0, 0.01, n)).to_csv(d / "leaky.csv", index=False)
    return d


def test_record_skew_exit_codes_and_json(files):
    r = mlwarden("skew", files / "offline.parquet", files / "online_same.csv", "--key", "id", "-f", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["mode"] == "record" and data["matched"] == 3000 and data["findings"] == []
    r = mlwarden("skew", files / "offline.parquet", files / "online_rounded.csv", "--key", "id")
    assert r.returncode == 1 and "skew.record" in r.stdout and "x:" in r.stdout


def test_distributional_skew_without_key(files):
    r = mlwarden("skew", files / "offline.parquet", files / "online_same.csv", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["mode"] == "distribution"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["skew", "offline.parquet", "online_same.csv", "--key", "nope"], "no key column 'nope'"),
        (["skew", "offline.parquet", "missing.csv", "--key", "id"], "no such file"),
        (["skew", "offline.parquet", "online_same.csv", "--time", "id"], "--time is a join column"),
        (["leakage", "clean.csv", "--target", "nope"], "no target column 'nope'"),
    ],
)
def test_bad_input_exits_2_with_one_line(files, args, message):
    r = mlwarden(*[files / a if a.endswith((".csv", ".parquet")) else a for a in args])
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_leakage_exit_codes(files):
    r = mlwarden("leakage", files / "clean.csv", "--target", "y", "--split", "split", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["findings"] == []
    r = mlwarden("leakage", files / "leaky.csv", "--target", "y", "--split", "split")
    assert r.returncode == 1 and "leakage.target" in r.stdout and "leak" in r.stdout
