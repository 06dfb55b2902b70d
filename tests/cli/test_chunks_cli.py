"""``mlwarden check --chunk-by``: real processes, real files, exit codes, one-line errors."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_process import mlwarden


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("chunks")
    rng = np.random.default_rng(0)

    def frame(n: int, shift: float) -> pd.DataFrame:
        x = rng.normal(shift, 1, n)
        p = 1 / (1 + np.exp(-x))
        return pd.DataFrame({"x": x, "p": p, "y": (rng.random(n) < p).astype(int)})

    frame(3000, 0).to_csv(d / "ref.csv", index=False)
    current = pd.concat([frame(500, s) for s in (0, 0, 0, 1.5)], ignore_index=True)
    current["ts"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.repeat([0, 1, 2, 3], 500), unit="D")
    current.to_csv(d / "cur.csv", index=False)
    current.iloc[:1500].to_csv(d / "calm.csv", index=False)
    return d


def test_json_list_one_report_per_day_exit_1_on_the_shifted_day(files):
    r = mlwarden("check", files / "ref.csv", files / "cur.csv", "--target", "y", "--score", "p",
                 "--chunk-by", "ts", "--period", "1d", "-f", "json")  # fmt: skip
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    assert [d["chunk"]["rows"] for d in data] == [500] * 4
    assert [d["drift"]["drifted_columns"] for d in data] == [[], [], [], ["x"]]
    assert all(d["performance"]["estimated"]["n"] == 500 for d in data)


def test_text_table_and_html_and_exit_0_when_calm(files, tmp_path):
    r = mlwarden("check", files / "ref.csv", files / "calm.csv", "--target", "y", "--score", "p",
                 "--chunk-size", "500")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "3 chunks" in r.stdout and "estimated roc_auc" in r.stdout and "realized accuracy" in r.stdout
    out = tmp_path / "c.html"
    r = mlwarden("check", files / "ref.csv", files / "cur.csv", "--chunk-by", "ts", "--period", "1d",
                 "-f", "html", "-o", out)  # fmt: skip
    assert r.returncode == 1 and out.exists() and "Drift over the chunks" in out.read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--chunk-by", "when", "--period", "1d"], "error: chunk_by: no column 'when' in current data"),
        (["--chunk-by", "ts", "--period", "daily"], "error: period: expected a number and a unit"),
        (["--chunk-by", "ts", "--period", "1d", "--chunk-size", "9"], "one of them, not both"),
        (["--chunk-by", "ts"], "none was given"),
        (["--chunk-by", "x", "--period", "1d"], "error: chunk_by 'x': a period needs timestamps"),
    ],
)
def test_bad_chunking_exits_2_with_one_line(files, extra, message):
    r = mlwarden("check", files / "ref.csv", files / "cur.csv", *extra)
    assert r.returncode == 2 and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
