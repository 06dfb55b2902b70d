"""Segments inside chunks: each chunk judged per segment, drift decided with one Benjamini–Hochberg
correction over chunks × (whole data and segments) × columns, performance with one Holm correction over
chunks × segments × metrics; the reference's segments fitted once."""

import json

import pandas as pd
import pytest
from cli_process import mlwarden
from segment_data import population
from spies import recording

import mlwarden as mw
import mlwarden.performance as performance_package
from mlwarden.performance import CBPE
from mlwarden.segments import checks as segment_checks

MAPPING = mw.ColumnMapping(target="y", prediction="pred", scores="score", segments=["country"])


def days() -> pd.DataFrame:
    """Four days of 5,000 rows; on day 2 only, country FR (10 % of the rows) drifts on x3 and its scores
    turn to noise."""
    frames = [population(5_000, 10 + i, broken="FR" if i == 2 else None) for i in range(4)]
    for i, frame in enumerate(frames):
        frame["ts"] = pd.Timestamp("2024-03-01") + pd.Timedelta(days=i, hours=12)
    return pd.concat(frames, ignore_index=True)


def serious(findings):
    return [f for f in findings if f.severity != "info"]


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return population(20_000, 1)


def test_each_chunk_is_judged_per_segment_with_one_correction_each(monkeypatch, reference):
    pairs = recording(monkeypatch, segment_checks, "detect_drift_jointly")
    families = recording(monkeypatch, performance_package, "decide_jointly")
    fits = recording(monkeypatch, CBPE, "fit")
    chunked = mw.Monitor(reference, MAPPING).check_chunks(days(), chunk_by="ts", period="1d")

    assert len(pairs) == 1 and len(pairs[0]) == 4 * (1 + 10)  # chunks x (whole data and segments)
    assert len(families) == 1 and len(families[0]) == 4 * 10  # chunks x segments, each with its metrics
    assert len(fits) == 1 + 10  # the whole reference and each reference segment, once for all chunks
    flagged = [
        (c.key, f.segment)
        for c in chunked.chunks
        for f in serious(c.report.findings)
        if f.segment is not None
    ]
    assert {segment for _, segment in flagged} == {"country=FR"}
    assert {key for key, _ in flagged} == {chunked.chunks[2].key}
    fr = chunked.chunks[2].report.segments[0]  # worst first
    assert fr.segment == "country=FR" and fr.drift.drifted_features == ["x3"]
    checks = {f.check for f in serious(fr.findings)}
    assert {"drift", "performance.realized"} <= checks  # scores turned to noise: estimation cannot see it
    assert fr.performance["realized"]["roc_auc"] == pytest.approx(0.5, abs=0.08)
    assert all(len(c.report.segments) == 10 for c in chunked.chunks)


def test_check_of_one_chunk_and_per_segment_slos(monkeypatch, reference):
    monitor = mw.Monitor(
        reference, MAPPING, slo={"roc_auc": 0.6}, segment_slo={"country=FR": {"roc_auc": 0.7}}
    )
    fits = recording(monkeypatch, CBPE, "fit")
    report = monitor.check(population(5_000, 12, broken="FR"))
    critical = [f for f in report.findings if f.severity == "critical" and f.check.startswith("performance")]
    assert {(f.segment, f.threshold) for f in critical} == {("country=FR", 0.7)}
    assert report.segments[0].segment == "country=FR"
    monitor.check(population(5_000, 13))
    assert len(fits) == 1 + 10  # fitted on the first check only, the segments' as the whole data's


def test_cli_check_chunk_by_with_segments_gives_segments_per_chunk(tmp_path, reference):
    reference.to_csv(tmp_path / "ref.csv", index=False)
    days().to_csv(tmp_path / "cur.csv", index=False)
    r = mlwarden("check", tmp_path / "ref.csv", tmp_path / "cur.csv", "--target", "y", "--score", "score",
                 "--prediction", "pred", "--chunk-by", "ts", "--period", "1d", "--segment", "country",
                 "-f", "json")  # fmt: skip
    assert r.returncode == 1, r.stderr  # FR's drift on day 2 is critical
    data = json.loads(r.stdout)
    assert [len(d["segments"]) for d in data] == [10] * 4
    flagged = {
        (i, s["segment"])
        for i, d in enumerate(data)
        for s in d["segments"]
        if any(f["severity"] != "info" for f in s["findings"])
    }
    assert flagged == {(2, "country=FR")}
    assert data[2]["segments"][0]["drift"]["drifted_columns"] == ["x3"]
    text = mlwarden("check", tmp_path / "ref.csv", tmp_path / "cur.csv", "--target", "y", "--score", "score",
                    "--chunk-by", "ts", "--period", "1d", "--segment", "country")  # fmt: skip
    assert text.returncode == 1 and "2024-03-03T00:00:00 country=FR" in text.stdout, text.stderr
