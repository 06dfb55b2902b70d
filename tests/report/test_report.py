import json
import re

import numpy as np
import pandas as pd
import pytest

import mlwarden as mw


@pytest.fixture(scope="module")
def report():
    rng = np.random.default_rng(0)
    n = 3_000
    ref = pd.DataFrame(
        {"x": rng.normal(size=n), "c": rng.choice(["a", "b", "<script>"], n), "y": rng.integers(0, 2, n)}
    )
    ref["score"] = 1 / (1 + np.exp(-2 * ref["x"]))
    ref["pred"] = (ref["score"] > 0.5).astype(int)
    cur = ref.assign(x=ref["x"] + 0.4, score=0.5, e=np.nan)
    return mw.compare(ref, cur, target="y", prediction="pred", score="score")


def test_json_follows_the_contract(report):
    data = json.loads(report.to_json())
    assert set(data) >= {"reference", "current", "drift", "performance", "findings"}
    assert data["reference"] == {"source": None, "rows": 3000}
    drift = data["drift"]
    assert set(drift) >= {"columns", "drifted_columns", "share_drifted", "multivariate"}
    for col in drift["columns"]:
        assert set(col) >= {"column", "kind", "method", "score", "threshold", "p_value", "drifted"}
        assert col["kind"] in ("numeric", "categorical")
    assert "x" in drift["drifted_columns"]
    assert [c["column"] for c in drift["columns"]] == ["x", "c"]  # features of the reference only
    assert [c["column"] for c in drift["target"]] == ["y"]
    assert [c["column"] for c in drift["outputs"]] == ["pred", "score"]
    assert set(data["performance"]) == {"estimated", "realized"}
    assert 0 <= data["performance"]["realized"]["accuracy"] <= 1
    for f in data["findings"]:
        assert set(f) >= {"check", "severity", "column", "value", "threshold", "message"}
    assert data["findings"][0]["severity"] == "critical"  # most severe first


def test_json_is_strict(report):
    text = report.to_json()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard constant {c}"))


def test_exit_code_reflects_critical_findings(report):
    assert report.exit_code == 1
    assert any(f.check == "output.score_stuck" for f in report.findings)


def test_html_is_self_contained_and_escaped(report, tmp_path):
    path = report.to_html(tmp_path / "r.html")
    html = path.read_text()
    assert "<svg" in html and "drifted" in html
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.index(">x<") < html.index(">c<")  # drifted columns first
    sections = [h for h in re.findall(r"<h2>([^<]+)</h2>", html) if h.endswith(" drift")]
    assert sections == ["Multivariate drift", "Feature drift", "Target drift", "Prediction and score drift"]
    assert html.index("<h2>Target drift") < html.index(">y<") < html.index("<h2>Prediction and score")


def test_clean_data_has_no_findings():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"x": rng.normal(size=5_000), "c": rng.choice(list("abc"), 5_000)})
    cur = pd.DataFrame({"x": rng.normal(size=5_000), "c": rng.choice(list("abc"), 5_000)})
    report = mw.compare(ref, cur)
    assert report.findings == [] and report.exit_code == 0


SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def test_html_escapes_every_string_from_the_data(tmp_path):
    """Column names, category values (seen and unseen) and the file path are data: shown, never run."""
    rng = np.random.default_rng(2)
    n = 2_000
    ref = pd.DataFrame(
        {SCRIPT: rng.normal(size=n), IMG: rng.choice(["a", SCRIPT], n), "y": rng.integers(0, 2, n)}
    )
    cur = ref.assign(**{SCRIPT: ref[SCRIPT] + 1, IMG: rng.choice(["a", IMG], n)})
    path = tmp_path / f"{IMG}.csv"
    cur.to_csv(path, index=False)
    report = mw.compare(ref, path, target="y")
    assert report.current.source == str(path)
    assert {f.column for f in report.findings} >= {SCRIPT, IMG}  # drifted, with an unseen category
    html = report.to_html(tmp_path / "r.html").read_text()
    for raw in (SCRIPT, IMG, "<script", "<img"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
