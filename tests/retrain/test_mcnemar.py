"""McNemar's test against scipy's binomial test and chi-square distribution; the interval's coverage."""

import numpy as np
import pytest
from scipy.stats import binomtest, chi2

from mlwarden.retrain.mcnemar import EXACT_BELOW, mcnemar


def pairs(b, c, both=40, neither=10):
    """Correctness arrays with b rows only the first model gets right and c only the second."""
    a = np.r_[np.ones(b, bool), np.zeros(c, bool), np.ones(both, bool), np.zeros(neither, bool)]
    second = np.r_[np.zeros(b, bool), np.ones(c, bool), np.ones(both, bool), np.zeros(neither, bool)]
    return a, second


@pytest.mark.parametrize("b, c", [(0, 3), (1, 9), (7, 7), (12, 3), (2, 20), (0, 1)])
def test_few_discordant_rows_use_the_exact_binomial_test(b, c):
    result = mcnemar(*pairs(b, c))
    assert (result.b, result.c, result.n) == (b, c, b + c + 50)
    assert result.exact and b + c < EXACT_BELOW
    assert result.p_value == pytest.approx(binomtest(c, b + c, 0.5).pvalue, rel=1e-12)


@pytest.mark.parametrize("b, c", [(150, 86), (20, 40), (13, 12), (300, 310)])
def test_many_discordant_rows_use_chi_square_with_continuity_correction(b, c):
    result = mcnemar(*pairs(b, c))
    assert not result.exact
    assert result.p_value == pytest.approx(chi2.sf((abs(b - c) - 1) ** 2 / (b + c), df=1), rel=1e-12)


def test_agresti_presidential_approval_example():
    """Agresti, Categorical Data Analysis (2nd ed., §10.1): approval at two surveys of the same 1600
    people, 150 approve → disapprove, 86 disapprove → approve; corrected statistic 63² / 236 = 16.82."""
    result = mcnemar(*pairs(150, 86, both=794, neither=570))
    assert result.n == 1600
    assert result.p_value == pytest.approx(chi2.sf(16.8178, df=1), rel=1e-4)
    assert result.p_value < 1e-4


def test_no_discordant_row_is_no_evidence():
    result = mcnemar(*pairs(0, 0))
    assert result.p_value == 1.0
    low, high = result.interval(0.95)
    assert low < 0 < high  # the Agresti–Min interval is not the single point 0


def test_agresti_min_interval_covers_the_true_difference():
    """Seeded simulation: 400 samples of 300 paired outcomes with a true accuracy difference of +0.05."""
    rng = np.random.default_rng(7)
    p_only_a, p_only_b = 0.08, 0.13  # true difference of accuracies: 0.13 − 0.08
    covered = 0
    trials = 400
    for _ in range(trials):
        cell = rng.choice(4, size=300, p=[p_only_a, p_only_b, 0.6, 1 - 0.6 - p_only_a - p_only_b])
        a = (cell == 0) | (cell == 2)
        b = (cell == 1) | (cell == 2)
        low, high = mcnemar(a, b).interval(0.95)
        covered += low <= 0.05 <= high
    assert 0.92 <= covered / trials <= 0.98
