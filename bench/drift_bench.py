"""Drift benchmark: mlwarden vs a plain-numpy floor and the peer tools, on `make_frames` (bench/common.py).

    .venv/bin/python bench/drift_bench.py                 # 100k and 1M rows; peers too if .venv-peers exists
    .venv/bin/python bench/drift_bench.py --rows 100000 --no-peers

Each tool runs in its own process on the same parquet files; wall time and peak resident memory cover the
tool's own work only (after the data is loaded). Verdicts are scored against the ten known shifts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import PeakRSS, shifted_columns, write_frames

ROOT = Path(__file__).resolve().parent.parent
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
PEERS = ("nannyml", "whylogs", "evidently")


def run_mlwarden(ref: pd.DataFrame, cur: pd.DataFrame) -> list[str]:
    import mlwarden as mw

    report = mw.compare(mw.profile(ref), cur)
    return report.drift.drifted_columns


def run_numpy(ref: pd.DataFrame, cur: pd.DataFrame) -> list[str]:
    for frame in (ref, cur):
        for name in frame.columns:
            if name.startswith("num"):
                np.histogram(frame[name].to_numpy(), bins=100)
            else:
                frame[name].value_counts()
    return []


WORKERS = {"mlwarden": run_mlwarden, "numpy": run_numpy}
REPEATS = 3


def worker(tool: str, ref_path: str, cur_path: str) -> None:
    ref, cur = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    input_bytes = int(ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum())
    if tool == "mlwarden":  # warm the imports so they are not timed
        run_mlwarden(ref.iloc[:500], cur.iloc[:500])
    walls = []
    with PeakRSS() as mem:
        for _ in range(REPEATS):  # the minimum of several runs: the machine's noise only ever adds time
            start = time.perf_counter()
            drifted = WORKERS[tool](ref, cur)
            walls.append(time.perf_counter() - start)
    wall = min(walls)
    print(
        json.dumps(
            {"tool": tool, "wall": wall, "peak_rss": mem.peak, "drifted": drifted, "input": input_bytes}
        )
    )


def measure(command: list[str]) -> dict:
    out = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def score(drifted: list[str]) -> tuple[int, int]:
    truth = shifted_columns()
    return len(truth - set(drifted)), len(set(drifted) - truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--no-peers", action="store_true", help="skip the peer tools even if installed")
    parser.add_argument("--worker", nargs=3, metavar=("TOOL", "REF", "CUR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    peers = [] if args.no_peers or not PEERS_PYTHON.exists() else list(PEERS)
    if not peers and not args.no_peers:
        print(
            f"peers not installed ({PEERS_PYTHON} missing): install them as README.md's Benchmarks section "
            "says; running without them\n"
        )
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            ref_path, cur_path = write_frames(rows, Path(tmp))
            results = {}
            for tool in ("numpy", "mlwarden"):
                results[tool] = measure(
                    [sys.executable, __file__, "--worker", tool, str(ref_path), str(cur_path)]
                )
            for tool in peers:
                results[tool] = measure([str(PEERS_PYTHON), "peers.py", tool, str(ref_path), str(cur_path)])
            report(rows, results)


def report(rows: int, results: dict[str, dict]) -> None:
    floor = results["numpy"]["wall"]
    ours = results["mlwarden"]
    print(
        f"\n{rows:,} reference + {rows:,} current rows; input frames {ours['input'] / 1e6:,.0f} MB in memory"
    )
    header = ("tool", "wall s", "× numpy", "peak MB", "× input", "missed/10", "false/15")
    print(f"{header[0]:<10} " + " ".join(f"{h:>9}" for h in header[1:]))
    for tool, r in results.items():
        if "error" in r:
            print(f"{tool:<10} failed: {r['error']}")
            continue
        missed, false = score(r["drifted"]) if tool != "numpy" else ("–", "–")
        print(
            f"{tool:<10} {r['wall']:>9.2f} {r['wall'] / floor:>9.2f} {r['peak_rss'] / 1e6:>9.0f} "
            f"{r['peak_rss'] / ours['input']:>9.2f} {missed!s:>9} {false!s:>9}"
        )
    for peer in ("evidently", "nannyml", "whylogs"):
        if peer in results and "error" not in results[peer]:
            print(f"mlwarden is {results[peer]['wall'] / ours['wall']:.1f}× faster than {peer}")


if __name__ == "__main__":
    main()
