"""Profiling throughput per core: one Parquet file profiled in one process, on Dask and on Spark.

    .venv/bin/python bench/engines_bench.py                     # 10M rows x 25 columns, all three
    .venv/bin/python bench/engines_bench.py --rows 1000000 --engines dask
    .venv/bin/python bench/engines_bench.py --data /shared/ref.parquet --scheduler tcp://scheduler:8786
    .venv/bin/python bench/engines_bench.py --data /shared/ref.parquet --master spark://master:7077

The file holds ``make_frames``' reference (bench/common.py: 20 normal numeric and 5 ten-valued categorical
columns) in row groups of 500,000 rows, written once (or ``--data``: a file every worker can read). Each
engine runs ``mw.profile(..., seed=0)`` on it, reading included: ``single`` streams the file
(``mw.profile(path)``, one core); ``dask`` reads it with ``dd.read_parquet`` on a ``LocalCluster`` of 2
workers x 1 thread (or the cluster at ``--scheduler``); ``spark`` with ``spark.read.parquet`` in
``local[2]`` (or at ``--master``). Printed per engine: wall seconds (imports, cluster start and a warm-up
on a small file not timed), rows a second, rows a second per core (cores: 1, the Dask workers' threads,
Spark's default parallelism), the CPU seconds spent by this process and its descendants (the Dask workers,
Spark's JVM and Python workers: local engines only) and rows per CPU second — less inflated than wall time
on a machine shared with other jobs, though not immune (caches, waiting threads) — and whether its
histograms and category counts equal the one-process profile.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from common import frame_of, load_average

import mlwarden as mw
from mlwarden.profile import DatasetProfile

warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
GROUP_ROWS = 500_000
WARM_ROWS = 20_000
ENGINES = ("single", "dask", "spark")

Profiler = Callable[[str], DatasetProfile]


def write(path: Path, rows: int, seed: int = 0) -> None:
    """The reference frame, written row group by row group (one group in memory)."""
    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, GROUP_ROWS):
        table = pa.Table.from_pandas(frame_of(rng, min(GROUP_ROWS, rows - start), shifted=False))
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    if writer is not None:
        writer.close()


def single(stack: ExitStack, args: argparse.Namespace) -> tuple[Profiler, int]:
    return (lambda path: mw.profile(path, seed=0)), 1


def on_dask(stack: ExitStack, args: argparse.Namespace) -> tuple[Profiler, int]:
    import dask.dataframe as dd
    import distributed

    if args.scheduler:
        client = stack.enter_context(distributed.Client(args.scheduler))
    else:
        cluster = stack.enter_context(
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            )
        )
        client = stack.enter_context(distributed.Client(cluster))
    return (lambda path: mw.profile(dd.read_parquet(path), seed=0)), sum(client.nthreads().values())


def on_spark(stack: ExitStack, args: argparse.Namespace) -> tuple[Profiler, int]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # local executors import mlwarden from here
    spark = (
        SparkSession.builder.master(args.master)
        .appName("mlwarden-engines-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    stack.callback(spark.stop)
    return (lambda path: mw.profile(spark.read.parquet(path), seed=0)), spark.sparkContext.defaultParallelism


SETUPS = {"single": single, "dask": on_dask, "spark": on_spark}


def cpu_seconds() -> float:
    """User + system CPU seconds of this process, its live descendants and the children they reaped."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for process in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def same_counts(a: DatasetProfile, b: DatasetProfile) -> bool:
    """Rows, per-column counts, histograms and category counts equal (the engines' exactness claim)."""
    if a.rows != b.rows or list(a.columns) != list(b.columns):
        return False
    for name, x in a.columns.items():
        y = b.columns[name]
        if x.count != y.count:
            return False
        if x.is_numeric and not (np.array_equal(x.edges, y.edges) and np.array_equal(x.hist, y.hist)):
            return False
        if not x.is_numeric and x.categories != y.categories:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, help="profile this Parquet file instead of writing one")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--scheduler", help="a Dask scheduler's address (default: a local 2-worker cluster)")
    parser.add_argument("--master", default="local[2]", help="the Spark master URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, warm = args.data, Path(tmp) / "warm.parquet"
        if path is None:
            path = Path(tmp) / "data.parquet"
            write(path, args.rows)
        write(warm, WARM_ROWS, seed=1)
        rows = pq.ParquetFile(path).metadata.num_rows
        columns = pq.ParquetFile(path).metadata.num_columns
        print(f"{rows:,} rows x {columns} columns, {path.stat().st_size / 1e6:,.0f} MB of Parquet")
        print(
            f"{'engine':<12} {'cores':>5} {'wall s':>8} {'rows/s':>11} {'rows/s/core':>11} {'CPU s':>7} "
            f"{'rows/CPU s':>11}  same counts"
        )
        first: DatasetProfile | None = None
        for engine in args.engines:
            with ExitStack() as stack:
                run, cores = SETUPS[engine](stack, args)
                run(str(warm))
                start, cpu = time.perf_counter(), cpu_seconds()
                result = run(str(path))
                wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
            first = first or result
            same = "yes" if same_counts(first, result) else "NO"
            remote = (engine == "dask" and args.scheduler) or (
                engine == "spark" and "local" not in args.master
            )
            print(
                f"{engine:<12} {cores:>5} {wall:>8.1f} {rows / wall:>11,.0f} {rows / wall / cores:>11,.0f} "
                + (f"{'–':>7} {'–':>11}  " if remote else f"{cpu:>7.1f} {rows / cpu:>11,.0f}  ")
                + f"{same if result is not first else '(base)'}",
                flush=True,
            )
        print(load_average())


if __name__ == "__main__":
    main()
