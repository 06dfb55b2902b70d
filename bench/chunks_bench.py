"""Cost of judging many chunks: ``mw.Monitor`` (reference profiled, DLE fitted once) vs a compare per chunk.

    .venv/bin/python bench/chunks_bench.py                 # 60,000 rows in 10 chunks of 6,000
    .venv/bin/python bench/chunks_bench.py --rows 20000 --chunks 5

A regression model's labelled reference (``--rows`` rows: 8 numeric and 2 categorical inputs, prediction,
label) and a current data set of as many rows cut into ``--chunks`` chunks; the inputs drift from chunk to
chunk. Timed, best of ``--repeat``: one chunk (``mw.compare(reference, chunk)``: profile the reference, fit
DLE, judge the chunk), every chunk the old way (a ``compare`` per chunk: the reference profiled and DLE
refitted each time), and every chunk through ``Monitor(reference).check_chunks``. Target: all chunks cost at
most 2× one chunk.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

import mlwarden as mw
from mlwarden.drift import DriftConfig

MAPPING = mw.ColumnMapping(target="y", prediction="y_pred")


def data(rows: int, chunks: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames; the current's inputs move by up to 0.5 sd over its chunks."""
    rng = np.random.default_rng(seed)

    def frame(shift: np.ndarray) -> pd.DataFrame:
        n = shift.size
        x = rng.normal(size=(n, 8)) + shift[:, None] * np.array([1, 0.5, 0, 0, 0, 0, 0, 0])
        out = pd.DataFrame(x, columns=[f"x{i}" for i in range(8)])
        for i in range(2):
            out[f"c{i}"] = np.array(list("abcdef"))[rng.integers(0, 6, n)]
        out["y_pred"] = x[:, 0] - 0.5 * x[:, 1] + 0.3 * x[:, 2]
        out["y"] = out["y_pred"] + 0.2 * x[:, 3] ** 2 + rng.normal(size=n) * (0.3 + 0.4 * np.abs(x[:, 0]))
        return out

    current = frame(np.repeat(np.linspace(0, 0.5, chunks), -(-rows // chunks))[:rows])
    return frame(np.zeros(rows)), current


def best(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """``(wall, cpu)`` seconds, each the best of ``repeat`` runs (CPU: this process's, all its threads —
    the cost on a shared machine, where wall time also measures the neighbours)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    reference, current = data(args.rows, args.chunks, args.seed)
    size = -(-args.rows // args.chunks)
    parts = [current.iloc[i : i + size] for i in range(0, args.rows, size)]

    one = best(args.repeat, lambda: mw.compare(reference, parts[0], mapping=MAPPING))
    refit = best(1, lambda: [mw.compare(reference, part, mapping=MAPPING) for part in parts])
    monitor = best(args.repeat, lambda: mw.Monitor(reference, MAPPING).check_chunks(current, chunk_size=size))
    univariate = DriftConfig(multivariate=False)
    no_classifier = best(
        args.repeat,
        lambda: mw.Monitor(reference, MAPPING, drift=univariate).check_chunks(current, chunk_size=size),
    )
    print(
        f"regression, reference {args.rows:,} rows; "
        f"current {args.rows:,} rows in {len(parts)} chunks of {size:,}"
    )
    print(f"{'what':<62} {'wall s':>7} {'CPU s':>7} {'CPU × one chunk':>16}")
    for label, (wall, cpu) in (
        ("one chunk: compare(reference, chunk)", one),
        (f"{len(parts)} chunks, a compare per chunk (refit each time)", refit),
        (f"{len(parts)} chunks, Monitor(reference).check_chunks", monitor),
        (f"{len(parts)} chunks, Monitor, no multivariate domain classifier", no_classifier),
    ):
        print(f"{label:<62} {wall:>7.2f} {cpu:>7.2f} {cpu / one[1]:>16.2f}")
    for label, (_, cpu) in (("all checks", monitor), ("without the domain classifier", no_classifier)):
        verdict = "met" if cpu <= 2 * one[1] else "NOT met"
        print(f"target {len(parts)} chunks ≤ 2× one chunk (CPU), {label}: {verdict}")


if __name__ == "__main__":
    main()
