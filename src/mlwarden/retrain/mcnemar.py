"""McNemar's test and an interval for the difference of two paired accuracies.

Two classifiers judged on the same rows differ only where exactly one is right: ``b`` rows where only the
first is correct, ``c`` where only the second is. Under "equally accurate" each discordant row is a fair
coin, so McNemar (1947) compares ``c`` with ``b``: with fewer than ``EXACT_BELOW`` discordant rows the
exact two-sided binomial p-value ``min(1, 2 · P(Bin(b + c, ½) ≤ min(b, c)))`` (as statsmodels'
``mcnemar(exact=True)``), otherwise the chi-square statistic with continuity correction
``(|b − c| − 1)² / (b + c)`` on one degree of freedom (Edwards 1948).

The interval of the accuracy difference ``(c − b) / N`` is Agresti & Min's (2005) adjusted Wald interval:
the Wald interval after adding ½ to each of the four cells of the paired 2×2 table ("Simple improved
confidence intervals for comparing matched proportions", Statistics in Medicine 24:729–740). Unlike the
plain Wald interval it is not a single point when no row is discordant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binom, chi2, norm

EXACT_BELOW = 25  # discordant rows under which the exact binomial test is used


@dataclass(frozen=True)
class McNemar:
    """``b``: rows only model a gets right; ``c``: rows only model b gets right; ``p_value`` two-sided;
    ``exact``: whether the binomial test was used."""

    b: int
    c: int
    n: int
    p_value: float
    exact: bool

    def interval(self, confidence: float) -> tuple[float, float]:
        """Agresti–Min interval of accuracy(b) − accuracy(a) at two-sided level ``confidence``."""
        z = float(norm.ppf(0.5 + confidence / 2))
        n = self.n + 2.0
        b, c = self.b + 0.5, self.c + 0.5
        delta = (c - b) / n
        se = np.sqrt(max((b + c) - (c - b) ** 2 / n, 0.0)) / n
        return float(max(delta - z * se, -1.0)), float(min(delta + z * se, 1.0))


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemar:
    """McNemar's test of two boolean arrays (shape (N,)) saying which rows each model got right."""
    correct_a, correct_b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    b = int(np.count_nonzero(correct_a & ~correct_b))
    c = int(np.count_nonzero(correct_b & ~correct_a))
    discordant = b + c
    if discordant == 0:
        p = 1.0
    elif discordant < EXACT_BELOW:
        p = min(1.0, 2.0 * float(binom.cdf(min(b, c), discordant, 0.5)))
    else:
        p = float(chi2.sf((abs(b - c) - 1.0) ** 2 / discordant, df=1))
    return McNemar(b=b, c=c, n=int(correct_a.size), p_value=p, exact=discordant < EXACT_BELOW)
