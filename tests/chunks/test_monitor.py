"""``Monitor``: the reference profiled and its estimator fitted once; chunks judged with one correction."""

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from spies import recording

import mlwarden as mw
from mlwarden.chunks import monitor as monitor_module
from mlwarden.drift import DriftConfig, detect_drift
from mlwarden.drift.multiple_testing import benjamini_hochberg
from mlwarden.performance import CBPE, DLE


def classified(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    x = rng.normal(size=(n, 2)) + np.array([shift, 0.0])
    p = 1 / (1 + np.exp(-(x[:, 0] - x[:, 1])))
    y = (rng.random(n) < p).astype(int)
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "p": p, "pred": (p >= 0.5).astype(int), "y": y})


def regressed(rng: np.random.Generator, n: int) -> pd.DataFrame:
    x = rng.normal(size=(n, 2))
    y = x[:, 0] + rng.normal(size=n) * (0.2 + np.abs(x[:, 1]))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "pred": x[:, 0], "y": y})


def counting(monkeypatch, owner, name: str) -> list:
    """Replace ``owner.name`` by a wrapper recording each call's keyword arguments."""
    return recording(monkeypatch, owner, name, keep=lambda args, kwargs: kwargs)


CLASSIFIER = mw.ColumnMapping(target="y", prediction="pred", scores="p")


def test_reference_profiled_and_cbpe_fitted_once_for_five_chunks(monkeypatch):
    rng = np.random.default_rng(1)
    reference, current = classified(rng, 3000), classified(rng, 5000, shift=0.3)
    fits = counting(monkeypatch, CBPE, "fit")
    profiles = counting(monkeypatch, monitor_module, "profile")
    chunked = mw.Monitor(reference, CLASSIFIER).check_chunks(current, chunk_size=1000)
    assert len(chunked.chunks) == 5 and len(fits) == 1
    assert [p.get("reference") is None for p in profiles] == [True] + [False] * 5
    # the same estimate as a comparison that fits its own CBPE on that chunk
    alone = mw.compare(reference, current.iloc[2000:3000], mapping=CLASSIFIER)
    assert chunked.chunks[2].report.performance == alone.performance
    assert len(fits) == 2


def test_dle_fitted_once_for_four_chunks(monkeypatch):
    rng = np.random.default_rng(2)
    fits = counting(monkeypatch, DLE, "fit")
    monitor = mw.Monitor(regressed(rng, 2000), mw.ColumnMapping(target="y", prediction="pred"))
    current = regressed(rng, 2000).drop(columns="y")
    chunked = monitor.check_chunks(current, chunk_size=500)
    assert len(fits) == 1
    for chunk in chunked.chunks:
        estimated = chunk.report.performance["estimated"]
        assert estimated["n"] == 500 and 0.5 < estimated["mae"] < 1.2
        assert estimated["mae_lower"] < estimated["mae"] < estimated["mae_upper"]
    assert monitor.check(current).performance["estimated"]["n"] == 2000 and len(fits) == 1


def test_one_benjamini_hochberg_over_every_chunk_and_column():
    """One continuous column (one test per chunk): each chunk judged alone gives its raw p-value; judged
    together, the adjusted p-values are Benjamini–Hochberg's over all chunks."""
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(size=4000)})
    current = pd.DataFrame({"x": np.concatenate([rng.normal(s, 1, 400) for s in (0, 0, 0.1, 0.15, 0.2, 0)])})
    config = DriftConfig(multivariate=False)
    monitor = mw.Monitor(reference, drift=config)
    chunked = monitor.check_chunks(current, chunk_size=400)
    raw = [
        detect_drift(monitor.reference, mw.profile(current.iloc[i : i + 400], reference=monitor.reference))
        .columns[0]
        .p_value
        for i in range(0, 2400, 400)
    ]
    joint = [c.report.drift.columns[0].p_value for c in chunked.chunks]
    assert joint == pytest.approx(benjamini_hochberg(raw).tolist())
    assert all(j >= r for j, r in zip(joint, raw, strict=True))


def test_no_drift_in_twenty_chunks_raises_no_more_alarms_than_one():
    rng = np.random.default_rng(4)
    columns = {f"x{i}": rng.normal(size=5000) for i in range(10)}
    reference = pd.DataFrame(columns)
    current = pd.DataFrame({name: rng.normal(size=20 * 500) for name in columns})
    chunked = mw.Monitor(reference).check_chunks(current, chunk_size=500)
    assert sum(len(c.report.drift.drifted_features) for c in chunked.chunks) == 0
    # one pooled domain classifier: 100 rows of each chunk trained it, the other 400 are judged
    assert [c.report.drift.multivariate.n_current for c in chunked.chunks] == [400] * 20
    assert not any(c.report.drift.multivariate.drifted for c in chunked.chunks)
    assert chunked.exit_code == 0


def test_an_empty_current_is_one_critical_chunk_and_a_saved_profile_is_refused(tmp_path):
    rng = np.random.default_rng(7)
    monitor = mw.Monitor(classified(rng, 500), CLASSIFIER)
    chunked = monitor.check_chunks(classified(rng, 10).iloc[:0], chunk_size=100)
    assert [f.check for f in chunked.chunks[0].report.findings] == ["data.empty"] and chunked.exit_code == 1
    mw.profile(classified(rng, 100)).save(tmp_path / "current.mlwprof")
    with pytest.raises(mw.InputError, match="chunks need rows"):
        monitor.check_chunks(tmp_path / "current.mlwprof", chunk_size=10)


def test_gap_tiny_and_unlabelled_chunks_are_judged_without_a_crash():
    rng = np.random.default_rng(5)
    reference = classified(rng, 2000)
    days = [classified(rng, n) for n in (800, 10, 800)]
    for i, day in zip((0, 2, 3), days, strict=True):  # no row on day 1
        day["ts"] = pd.Timestamp("2024-03-01") + pd.Timedelta(days=i, hours=12)
    days[2]["y"] = np.nan  # the labels of the last day have not arrived
    current = pd.concat(days, ignore_index=True)
    chunked = mw.Monitor(reference, CLASSIFIER).check_chunks(current, chunk_by="ts", period="1d")
    assert [c.rows for c in chunked.chunks] == [800, 0, 10, 800]
    gap = chunked.chunks[1].report
    assert [(f.check, f.severity.value) for f in gap.findings] == [("chunk.empty", "warning")]
    assert "a gap in the data" in gap.findings[0].message
    tiny = chunked.chunks[2].report
    assert any("holds 10 rows, fewer than 50" in note for note in tiny.notes)
    assert tiny.performance["estimated"]["n"] == 10
    unlabelled = chunked.chunks[3].report
    assert unlabelled.performance["realized"] == {} and unlabelled.performance["estimated"]["n"] == 800
    assert any("no labels in current data" in note for note in unlabelled.notes)
    assert chunked.exit_code == 0


def test_json_is_a_list_headed_by_each_chunk_and_html_draws_the_series(tmp_path):
    rng = np.random.default_rng(6)
    reference = classified(rng, 2000).rename(columns={"a": "<b>a"})
    current = pd.concat([classified(rng, 600, s) for s in (0, 0, 1.5)], ignore_index=True)
    current = current.rename(columns={"a": "<b>a"})
    current["ts"] = pd.date_range("2024-05-01", periods=len(current), freq="4min")
    monitor = mw.Monitor(reference, CLASSIFIER, slo={"roc_auc": 0.7})
    chunked = monitor.check_chunks(current, chunk_by="ts", period="1d")
    data = json.loads(chunked.to_json())
    assert [d["chunk"] for d in data] == [
        {
            "key": "2024-05-01T00:00:00",
            "start": "2024-05-01T00:00:00",
            "end": "2024-05-02T00:00:00",
            "rows": 360,
        },
        {
            "key": "2024-05-02T00:00:00",
            "start": "2024-05-02T00:00:00",
            "end": "2024-05-03T00:00:00",
            "rows": 360,
        },
        {
            "key": "2024-05-03T00:00:00",
            "start": "2024-05-03T00:00:00",
            "end": "2024-05-04T00:00:00",
            "rows": 360,
        },
        {
            "key": "2024-05-04T00:00:00",
            "start": "2024-05-04T00:00:00",
            "end": "2024-05-05T00:00:00",
            "rows": 360,
        },
        {
            "key": "2024-05-05T00:00:00",
            "start": "2024-05-05T00:00:00",
            "end": "2024-05-06T00:00:00",
            "rows": 360,
        },
    ]
    assert data[4]["drift"]["drifted_columns"] == ["<b>a"] and data[0]["drift"]["drifted_columns"] == []
    assert chunked.exit_code == 1  # the last day's shift is critical
    html = chunked.to_html(tmp_path / "chunks.html").read_text()
    assert "&lt;b&gt;a" in html and "<b>a" not in html
    assert html.count("<svg") >= 6 and "SLO 0.7" in html and "reference 0." in html
    assert "drifted in 2 of 5 chunks" in html  # days 4 (two thirds shifted) and 5


def test_a_run_of_empty_periods_is_one_warning_not_one_per_period():
    """50 sparse rows in 1-minute periods: each run of empty periods is one finding, not 490."""
    rng = np.random.default_rng(11)
    reference = classified(rng, 2000)
    current = classified(rng, 50)
    rest = rng.choice(np.arange(201, 539), size=47, replace=False)
    minutes = np.sort([0, 200, *rest, 539])  # 540 periods, 490 of them empty; the longest gap 1 to 199
    current["ts"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(minutes, unit="min")
    chunked = mw.Monitor(reference, CLASSIFIER).check_chunks(current, chunk_by="ts", period="1min")
    assert len(chunked.chunks) == 540 and len(chunked.to_dict()) == 540  # every period kept in the JSON
    gaps = [c for c in chunked.chunks if c.rows == 0]
    assert len(gaps) == 490
    runs = [(a, b) for a, b in itertools.pairwise(minutes.tolist()) if b - a > 1]  # empty: a+1 to b-1
    empties = [f for c in chunked.chunks for f in c.report.findings if f.check == "chunk.empty"]
    assert len(empties) == len(runs) < 50
    assert [f.value for f in empties] == [float(b - a - 1) for a, b in runs]
    assert sum(f.value for f in empties) == 490
    assert empties[0].message == (
        "no rows in 199 consecutive periods, from 2024-03-01 00:01:00 to 2024-03-01 03:20:00: "
        "a gap in the data"
    )
    quiet = [c for c in gaps if not c.report.findings]  # the rest of each run: a note naming its first chunk
    assert len(quiet) == 490 - len(runs)
    assert [c.report.notes for c in quiet[:2]] == [
        ["no rows: part of the gap reported on chunk 2024-03-01T00:01:00"]
    ] * 2
    assert chunked.counts()["warning"] == len(runs)
