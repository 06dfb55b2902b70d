"""The tools bench/peers.py runs side by side, one per process: prints one JSON line for TOOL on a file pair.

    python bench/peer_tools.py TOOL ref.parquet cur.parquet [--repeats 3]

``mlwarden`` and ``numpy`` (the one-pass floor) run in the project's environment; ``evidently``,
``nannyml`` and ``whylogs`` in the one holding the extra ``bench`` (``.venv-peers``, README "Benchmarks").
Every tool is called with its documented drift defaults on the frames as read, after one untimed warm-up
on the first ``WARM_ROWS`` rows (imports and lazy set-up are never timed, for any tool). The JSON line
holds ``wall`` (seconds, the minimum of ``--repeats`` runs: the machine's noise only ever adds time),
``peak_rss`` (bytes of resident memory above the level once the data is loaded and the tool warmed),
``drifted`` (the columns the tool calls drifted), ``input`` (bytes of both frames in memory) and
``version``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections.abc import Callable
from importlib.metadata import version

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import PeakRSS  # noqa: E402

WARM_ROWS = 2_000

Runner = Callable[[pd.DataFrame, pd.DataFrame, list[str], list[str]], list[str]]


def run_mlwarden(ref: pd.DataFrame, cur: pd.DataFrame, num: list[str], cat: list[str]) -> list[str]:
    import mlwarden as mw

    return mw.compare(mw.profile(ref), cur).drift.drifted_columns


def run_numpy(ref: pd.DataFrame, cur: pd.DataFrame, num: list[str], cat: list[str]) -> list[str]:
    """The floor: one 100-bin histogram per numeric column and one value count per categorical column."""
    for frame in (ref, cur):
        for name in num:
            np.histogram(frame[name].to_numpy(), bins=100)
        for name in cat:
            frame[name].value_counts()
    return []


def run_evidently(ref: pd.DataFrame, cur: pd.DataFrame, num: list[str], cat: list[str]) -> list[str]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    dd = DataDefinition(numerical_columns=num, categorical_columns=cat)
    snap = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(cur, data_definition=dd),
        reference_data=Dataset.from_pandas(ref, data_definition=dd),
    )
    drifted = []
    for metric in snap.dict()["metrics"]:
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


def run_nannyml(ref: pd.DataFrame, cur: pd.DataFrame, num: list[str], cat: list[str]) -> list[str]:
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


def run_whylogs(ref: pd.DataFrame, cur: pd.DataFrame, num: list[str], cat: list[str]) -> list[str]:
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    cv, rv = why.log(cur).view(), why.log(ref).view()
    scores = calculate_drift_scores(target_view=cv, reference_view=rv, with_thresholds=True)
    return [c for c, s in scores.items() if s and s.get("drift_category") == "DRIFT"]


TOOLS: dict[str, Runner] = {
    "numpy": run_numpy,
    "mlwarden": run_mlwarden,
    "nannyml": run_nannyml,
    "whylogs": run_whylogs,
    "evidently": run_evidently,
}


def measure(tool: str, ref_path: str, cur_path: str, repeats: int) -> dict:
    """Run ``tool`` on the pair as the module docstring says; the JSON-ready result."""
    run = TOOLS[tool]
    ref, cur = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    num = [c for c in ref.columns if c.startswith("num")]
    cat = [c for c in ref.columns if c.startswith("cat")]
    run(ref.iloc[:WARM_ROWS], cur.iloc[:WARM_ROWS], num, cat)
    walls = []
    with PeakRSS() as mem:
        for _ in range(repeats):
            start = time.perf_counter()
            drifted = run(ref, cur, num, cat)
            walls.append(time.perf_counter() - start)
    return {
        "tool": tool,
        "version": version(tool),
        "wall": min(walls),
        "peak_rss": mem.peak,
        "drifted": sorted(drifted),
        "input": int(ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=list(TOOLS))
    parser.add_argument("reference")
    parser.add_argument("current")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.tool, args.reference, args.current, args.repeats)))


if __name__ == "__main__":
    main()
