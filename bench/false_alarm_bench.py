"""Report-level false-alarm rate: how often does comparing two random halves of one data set raise anything?

    .venv/bin/python bench/false_alarm_bench.py                # 20 splits of each data set
    .venv/bin/python bench/false_alarm_bench.py --splits 5 --target

Each of scikit-learn's bundled breast_cancer, wine, diabetes and digits data sets (features plus the target
as a column) is split at random into two halves — exchangeable samples of one distribution, so any warning or
critical finding in ``mw.compare(half_a, half_b)`` is a false alarm. The table gives, per data set, how many
reports raised one and which checks fired (a check counted once per report). ``--target`` also passes the
target column as ``target=`` (a second report per split).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DATA_SETS = ("breast_cancer", "wine", "diabetes", "digits")


def load(name: str) -> pd.DataFrame:
    """The data set's features with its target as the column ``target``."""
    from sklearn import datasets

    loader: Callable = getattr(datasets, f"load_{name}")
    bunch = loader(as_frame=True)
    return bunch.frame


def halves(data: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = rng.permutation(len(data))
    cut = len(data) // 2
    return data.iloc[order[:cut]].reset_index(drop=True), data.iloc[order[cut:]].reset_index(drop=True)


@dataclass
class Tally:
    name: str
    rows: int
    reports: int = 0
    alarmed: int = 0
    checks: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.alarmed / self.reports if self.reports else 0.0


def alarms(report) -> set[str]:
    """The checks that raised a warning or critical finding in a report."""
    return {f.check for f in report.findings if f.severity in ("warning", "critical")}


def run(name: str, splits: int, seed: int, *, with_target: bool) -> Tally:
    import mlwarden as mw

    data = load(name)
    tally = Tally(name, len(data))
    rng = np.random.default_rng(seed)
    for _ in range(splits):
        a, b = halves(data, rng)
        variants = [{}, {"target": "target"}] if with_target else [{}]
        for kwargs in variants:
            fired = alarms(mw.compare(a, b, **kwargs))
            tally.reports += 1
            tally.alarmed += bool(fired)
            tally.checks.update(fired)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", action="store_true", help="also compare with target='target'")
    args = parser.parse_args()
    start = time.perf_counter()
    tallies = [run(name, args.splits, args.seed, with_target=args.target) for name in DATA_SETS]
    print(f"{'data set':<14} {'rows':>6} {'reports':>8} {'alarmed':>8} {'rate':>7}  checks fired")
    for t in tallies:
        fired = ", ".join(f"{check} {n}" for check, n in t.checks.most_common()) or "–"
        print(f"{t.name:<14} {t.rows:>6} {t.reports:>8} {t.alarmed:>8} {t.rate:>7.1%}  {fired}")
    reports, alarmed = sum(t.reports for t in tallies), sum(t.alarmed for t in tallies)
    print(f"{'overall':<14} {'':>6} {reports:>8} {alarmed:>8} {alarmed / reports:>7.1%}")
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
