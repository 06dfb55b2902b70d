"""Report-level false alarms on exchangeable halves of real data (bench/false_alarm_bench.py, reduced)."""

import numpy as np
from sklearn import datasets

import mlwarden as mw

DATA_SETS = ("breast_cancer", "wine", "diabetes", "digits")


def test_random_halves_of_real_data_raise_at_most_five_percent_alarmed_reports():
    """5 seeded random half-splits of each of four scikit-learn data sets (features + target as a column):
    the halves are exchangeable, so any warning or critical finding is a false alarm. At most 5 % of the
    20 reports — one — may raise one."""
    rng = np.random.default_rng(100)
    alarmed = []
    for name in DATA_SETS:
        data = getattr(datasets, f"load_{name}")(as_frame=True).frame
        for _ in range(5):
            order = rng.permutation(len(data))
            half = len(data) // 2
            a = data.iloc[order[:half]].reset_index(drop=True)
            b = data.iloc[order[half:]].reset_index(drop=True)
            checks = [f.check for f in mw.compare(a, b).findings if f.severity in ("warning", "critical")]
            if checks:
                alarmed.append((name, checks))
    assert len(alarmed) <= 1, alarmed
