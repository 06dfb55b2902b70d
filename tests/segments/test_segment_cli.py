"""``mlwarden check --segment``: the segments list in the JSON, a section per segment in text and HTML
(worst first), ``columns.segments`` from the config, and saved profiles with segments."""

import json

import pytest
from cli_process import mlwarden
from segment_data import population


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("segments")
    population(12_000, 1).to_csv(root / "ref.csv", index=False)
    population(12_000, 2, broken="FR").to_csv(root / "cur.csv", index=False)
    return root


def test_json_text_and_html_per_segment(files, tmp_path):
    run = mlwarden(
        "check",
        files / "ref.csv",
        files / "cur.csv",
        "--target",
        "y",
        "--score",
        "score",
        "--segment",
        "country",
        "--format",
        "json",
    )
    assert run.returncode == 1, run.stderr  # the broken segment's drift is critical
    data = json.loads(run.stdout)
    assert data["segments"][0]["segment"] == "country=FR"
    assert {f["segment"] for f in data["findings"] if f["severity"] != "info"} <= {"country=FR", None}

    text = mlwarden(
        "check",
        files / "ref.csv",
        files / "cur.csv",
        "--target",
        "y",
        "--score",
        "score",
        "--segment",
        "country",
        "--segment",
        "country,plan",
    )
    assert "segments (worst first)" in text.stdout
    lines = text.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if "segments (worst first)" in line) + 4
    assert "country=FR" in lines[first] or "country,plan=FR" in lines[first]
    assert "segment country=FR" in text.stdout and "country,plan=FR,a" in text.stdout

    html = tmp_path / "r.html"
    run = mlwarden(
        "check", files / "ref.csv", files / "cur.csv", "--segment", "country", "-f", "html", "-o", html
    )
    page = html.read_text()
    assert "<h2>Segments</h2>" in page and page.index("country=FR") < page.index("country=DE")


def test_config_segments_and_saved_profiles(files, tmp_path):
    config = tmp_path / "model.yaml"
    config.write_text(
        "columns:\n  target: y\n  scores: score\n  segments: [country]\n"
        "slo:\n  roc_auc: {min: 0.5, segments: {country=FR: 0.7}}\n"
    )
    run = mlwarden("check", files / "ref.csv", files / "cur.csv", "--config", config, "-f", "json")
    data = json.loads(run.stdout)
    assert len(data["segments"]) == 10
    critical = [f for f in data["findings"] if f["severity"] == "critical" and f["check"].startswith("perf")]
    assert [(f["segment"], f["threshold"]) for f in critical] == [("country=FR", 0.7)]

    saved = tmp_path / "ref.mwp"
    assert mlwarden("profile", files / "ref.csv", "-o", saved, "--segment", "country").returncode == 0
    run = mlwarden("check", saved, files / "cur.csv", "--segment", "country", "-f", "json")
    assert json.loads(run.stdout)["segments"][0]["segment"] == "country=FR"
    run = mlwarden("check", saved, files / "cur.csv", "--segment", "plan")
    assert run.returncode == 2 and "reference profile has no segments for 'plan'" in run.stderr
    bad = mlwarden("check", files / "ref.csv", files / "cur.csv", "--segment", "country,")
    assert bad.returncode == 2 and "--segment" in bad.stderr
