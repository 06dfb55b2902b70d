"""Wide data: 1,000 numeric columns, a Parquet reference streamed against a Parquet current.

Prints one table for ``mlwarden check``'s work (``mw.compare`` on the two files: both streamed in chunks, the
reference's edges from a first pass) and for a numpy floor (one pass: read each row group into a 2-D array,
then a 100-bin histogram per column on shared edges, sum and sum of squares — vectorised over columns): wall
and CPU time (all threads), peak RSS above the process's start against the current data's in-memory size,
the per-value profiling cost of wide against narrow data (the same number of values as 25 columns; CPU
time, minimum of three), the load average, and the verdicts against issue 15's targets. Each tool runs in
its own process; imports are outside the timed span.

    python bench/wide_bench.py --rows 300000          # a quick run (~5 min on a busy machine)
    python bench/wide_bench.py                         # 1,000 x 3,000,000 against 300,000 rows
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from common import PeakRSS

COLUMNS = 1_000
SHIFTED = 10  # x0..x9 shifted by 0.1..0.5 sd in the current data (twice the Wasserstein threshold and more)
GROUP_ROWS = 8_192  # rows per Parquet row group (64 MB at 1,000 columns; a streamed reader reads 4 at once)
PER_VALUE = 1 << 25  # values profiled to measure the per-value cost: 1,000 x 33,554 or 25 x 1,342,177
TARGET_SECONDS, TARGET_MEMORY, TARGET_PER_VALUE = 300, 2.0, 2.0  # issue 15, item 4


def write(path: Path, rows: int, columns: int, seed: int, shifted: bool) -> None:
    """Normal columns written row group by row group (bounded memory); cached by name."""
    if path.exists():
        return
    rng = np.random.default_rng(seed)
    schema = pa.schema([(f"x{i}", pa.float64()) for i in range(columns)])
    shift = np.zeros(columns)
    if shifted:
        shift[:SHIFTED] = np.linspace(0.1, 0.5, SHIFTED)
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, schema, compression="none") as writer:
        for start in range(0, rows, GROUP_ROWS):
            n = min(GROUP_ROWS, rows - start)
            block = rng.standard_normal((n, columns)) + shift
            writer.write_table(pa.Table.from_arrays(list(block.T), schema=schema))
    tmp.rename(path)


def run_mlwarden(ref: Path, cur: Path) -> dict:
    import mlwarden as mw

    report = mw.compare(ref, cur)
    drifted = set(report.drift.drifted_columns)
    truth = {f"x{i}" for i in range(SHIFTED)}
    mv = report.drift.multivariate
    return {
        "missed": len(truth - drifted),
        "false_alarms": len(drifted - truth),
        "multivariate": None if mv is None else [mv.score, mv.note],
    }


def run_numpy(ref: Path, cur: Path) -> dict:
    edges = np.linspace(-4, 4, 101)
    for path in (ref, cur):
        with pq.ParquetFile(path) as file:
            k = file.schema_arrow.__len__()
            counts, sums, squares = np.zeros(k * 102, dtype=np.int64), np.zeros(k), np.zeros(k)
            for g in range(file.num_row_groups):
                table = file.read_row_group(g, use_threads=False)
                block = np.column_stack([c.to_numpy() for c in table.columns])  # rows x columns
                bins = np.searchsorted(edges, block) + np.arange(k) * 102
                counts += np.bincount(bins.ravel(), minlength=k * 102)
                sums += block.sum(axis=0)
                squares += np.einsum("ij,ij->j", block, block)
    return {}


def per_value(columns: int, rows: int) -> float:
    """CPU nanoseconds per value to profile a streamed Parquet file on reference edges (warm, min of 3)."""
    import mlwarden as mw
    from mlwarden.profile.stream import profile_file

    folder = Path("/tmp/mlwarden-wide-bench")
    path = folder / f"pv-{columns}x{rows}.parquet"
    write(path, rows, columns, seed=5, shifted=False)
    reference = mw.profile(path)
    best = min(_cpu_timed(lambda: profile_file(path, reference=reference)) for _ in range(3))
    return best / (rows * columns) * 1e9


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process (pyarrow's decoders)
    return usage.ru_utime + usage.ru_stime


def _cpu_timed(work) -> float:
    start = _cpu()
    work()
    return _cpu() - start


def worker(tool: str, ref: str, cur: str) -> None:
    if tool == "per_value":
        wide, narrow = per_value(COLUMNS, PER_VALUE // COLUMNS), per_value(25, PER_VALUE // 25)
        print(json.dumps({"wide": wide, "narrow": narrow}))
        return
    if tool == "mlwarden":
        from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: F401

        import mlwarden  # noqa: F401  (imports outside the timed span)
    with PeakRSS() as mem:
        start, cpu = time.perf_counter(), _cpu()
        extra = (run_mlwarden if tool == "mlwarden" else run_numpy)(Path(ref), Path(cur))
        wall, cpu = time.perf_counter() - start, _cpu() - cpu
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_rss": mem.peak, **extra}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000, help="reference rows (current: a tenth)")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/mlwarden-wide-bench"))
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    ref = args.folder / f"ref-{COLUMNS}x{args.rows}.parquet"
    cur = args.folder / f"cur-{COLUMNS}x{args.rows // 10}.parquet"
    start = time.perf_counter()
    write(ref, args.rows, COLUMNS, seed=1, shifted=False)
    write(cur, args.rows // 10, COLUMNS, seed=2, shifted=True)
    print(f"data written in {time.perf_counter() - start:.0f} s (cached in {args.folder})")
    current_bytes = args.rows // 10 * COLUMNS * 8
    loads = [os.getloadavg()[0]]
    results = {}
    for tool in ("numpy", "mlwarden", "per_value"):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", tool, str(ref), str(cur)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
        )
        if out.returncode:
            sys.exit(f"{tool} failed: {out.stderr.strip().splitlines()[-1]}")
        results[tool] = json.loads(out.stdout.strip().splitlines()[-1])
    loads.append(os.getloadavg()[0])
    floor, ours, pv = results["numpy"], results["mlwarden"], results["per_value"]
    print(
        f"\n{COLUMNS:,} numeric columns: reference {args.rows:,} rows "
        f"({args.rows * COLUMNS * 8 / 1e9:.1f} GB as float64), "
        f"current {args.rows // 10:,} rows ({current_bytes / 1e9:.2f} GB); "
        f"load average (1 min) {loads[0]:.1f} before, {loads[1]:.1f} after, on {os.cpu_count()} cores\n"
    )
    print(
        f"{'tool':<10} {'wall s':>8} {'CPU s':>8} {'wall x floor':>13} {'CPU x floor':>12} "
        f"{'peak RSS GB':>12} {'x current':>10}"
    )
    for name, r in (("numpy", floor), ("mlwarden", ours)):
        print(
            f"{name:<10} {r['wall']:>8.1f} {r['cpu']:>8.1f} "
            f"{r['wall'] / floor['wall']:>13.2f} {r['cpu'] / floor['cpu']:>12.2f} "
            f"{r['peak_rss'] / 1e9:>12.2f} {r['peak_rss'] / current_bytes:>10.2f}"
        )
    classifier = ours["multivariate"]
    rows = [
        (
            "compare wall time",
            f"{ours['wall']:.0f} s (CPU {ours['cpu']:.0f} s)",
            f"< {TARGET_SECONDS} s",
            ours["wall"] < TARGET_SECONDS,
        ),
        (
            "peak RSS / current in-memory size",
            f"{ours['peak_rss'] / current_bytes:.2f}x",
            f"< {TARGET_MEMORY:g}x",
            ours["peak_rss"] < TARGET_MEMORY * current_bytes,
        ),
        (
            f"ns/value: {COLUMNS:,} vs 25 columns",
            f"{pv['wide']:.1f} vs {pv['narrow']:.1f} ({pv['wide'] / pv['narrow']:.2f}x)",
            f"< {TARGET_PER_VALUE:g}x",
            pv["wide"] < TARGET_PER_VALUE * pv["narrow"],
        ),
        (
            "drift verdicts",
            f"{ours['missed']} of {SHIFTED} shifts missed, {ours['false_alarms']} false alarms",
            "0, 0",
            ours["missed"] == 0 and ours["false_alarms"] == 0,
        ),
        (
            "domain classifier",
            f"AUC {classifier[0]:.3f} ({classifier[1]})",
            "bounded",
            "most drifted" in classifier[1],
        ),
    ]
    print(f"\n{'target':<36} {'measured':<58} {'goal':<8} verdict")
    for name, measured, goal, ok in rows:
        print(f"{name:<36} {measured:<58} {goal:<8} {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
