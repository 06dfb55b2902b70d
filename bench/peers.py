"""Run one peer tool on a reference/current parquet pair; print JSON with wall time, memory and verdicts.

Runs inside the peers' own virtual environment (``.venv-peers``), called by drift_bench.py:
    .venv-peers/bin/python bench/peers.py evidently ref.parquet cur.parquet
Each tool is called with its defaults, as README.md's Benchmarks section describes.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")
warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
from common import PeakRSS  # noqa: E402


def evidently(ref: pd.DataFrame, cur: pd.DataFrame, num: list[str], cat: list[str]) -> list[str]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    dd = DataDefinition(numerical_columns=num, categorical_columns=cat)
    snap = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(cur, data_definition=dd),
        reference_data=Dataset.from_pandas(ref, data_definition=dd),
    )
    result = snap.dict()
    drifted = []
    for metric in result["metrics"]:
        config = metric.get("config", {})
        column = config.get("column")
        if config.get("type", "").endswith("ValueDrift") and column:
            method, threshold, value = config.get("method", ""), config.get("threshold"), metric.get("value")
            is_p_value = "p_value" in method or (
                "test" in method.lower() and "distance" not in method.lower()
            )
            known = value is not None and threshold is not None
            if known and ((value < threshold) if is_p_value else (value >= threshold)):
                drifted.append(column)
    return drifted


def nannyml(ref: pd.DataFrame, cur: pd.DataFrame, num: list[str], cat: list[str]) -> list[str]:
    import nannyml as nml

    calc = nml.UnivariateDriftCalculator(column_names=num + cat, treat_as_categorical=cat, chunk_size=100_000)
    calc.fit(ref)
    frame = calc.calculate(cur).filter(period="analysis").to_df()
    drifted = []
    for column in num + cat:
        alerts = [c for c in frame.columns if c[0] == column and c[-1] == "alert"]
        if any(frame[c].any() for c in alerts):
            drifted.append(column)
    return drifted


def whylogs(ref: pd.DataFrame, cur: pd.DataFrame, num: list[str], cat: list[str]) -> list[str]:
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    cv, rv = why.log(cur).view(), why.log(ref).view()
    scores = calculate_drift_scores(target_view=cv, reference_view=rv, with_thresholds=True)
    return [c for c, s in scores.items() if s and s.get("drift_category") == "DRIFT"]


TOOLS = {"evidently": evidently, "nannyml": nannyml, "whylogs": whylogs}


def main() -> None:
    tool, ref_path, cur_path = sys.argv[1:4]
    ref, cur = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    num = [c for c in ref.columns if c.startswith("num")]
    cat = [c for c in ref.columns if c.startswith("cat")]
    with PeakRSS() as mem:
        start = time.perf_counter()
        drifted = TOOLS[tool](ref, cur, num, cat)
        wall = time.perf_counter() - start
    print(json.dumps({"tool": tool, "wall": wall, "peak_rss": mem.peak, "drifted": sorted(drifted)}))


if __name__ == "__main__":
    main()
