"""Shared by the benchmarks and the peer tools' runner: the drift benchmark's data, an RSS high-water sampler.

Kept free of mlwarden imports so the peers' own virtual environment can import it.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

NUMERIC_SHIFTS = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5]  # in standard deviations
N_NUMERIC, N_CATEGORICAL, N_CATEGORIES, BOOSTED_CATEGORIES = 20, 5, 10, 2
N_BOOSTED_COLUMNS = 2
CATEGORIES = np.array([f"v{i}" for i in range(N_CATEGORIES)])


def shifted_columns() -> set[str]:
    """The ten columns whose distribution differs between reference and current."""
    return {f"num{i}" for i in range(len(NUMERIC_SHIFTS))} | {f"cat{i}" for i in range(N_BOOSTED_COLUMNS)}


def make_frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The benchmark's data: 20 normal numeric and 5 categorical columns; 8 numeric shifted by 0.1–0.5 sd,
    2 categorical with a fifth of their categories 1.5× more frequent; the other 15 unshifted."""
    rng = np.random.default_rng(seed)
    return frame_of(rng, rows, shifted=False), frame_of(rng, rows, shifted=True)


def frame_of(rng: np.random.Generator, rows: int, shifted: bool) -> pd.DataFrame:
    """One of the two frames: the reference (``shifted=False``) or the current, drawn from ``rng``."""
    data: dict[str, np.ndarray] = {}
    for i in range(N_NUMERIC):
        shift = NUMERIC_SHIFTS[i] if shifted and i < len(NUMERIC_SHIFTS) else 0.0
        data[f"num{i}"] = rng.normal(shift, 1.0, rows)
    for i in range(N_CATEGORICAL):
        p = np.full(N_CATEGORIES, 1.0)
        if shifted and i < N_BOOSTED_COLUMNS:
            p[:BOOSTED_CATEGORIES] *= 1.5
        data[f"cat{i}"] = CATEGORIES[rng.choice(N_CATEGORIES, rows, p=p / p.sum())]
    return pd.DataFrame(data)


def write_frames(rows: int, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """``make_frames(rows, seed)`` written to ``folder/ref-ROWS.parquet`` and ``folder/cur-ROWS.parquet``,
    one frame in memory at a time (10M rows: 2 GB each)."""
    rng = np.random.default_rng(seed)
    paths = folder / f"ref-{rows}.parquet", folder / f"cur-{rows}.parquet"
    for path, shifted in zip(paths, (False, True), strict=True):
        frame_of(rng, rows, shifted).to_parquet(path)
    return paths


def load_average() -> str:
    """The 1/5/15-minute load averages and the core count: printed beside every timing (shared machine)."""
    return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def rss_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakRSS:
    """Samples this process's resident memory every 10 ms; ``peak`` is the high-water mark above the start."""

    def __init__(self) -> None:
        self.start = self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRSS:
        self.start = rss_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes() - self.start)
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes() - self.start)
