"""DeLong's test for two correlated ROC AUCs: two models scored on the same rows.

DeLong, DeLong & Clarke-Pearson (1988), "Comparing the areas under two or more correlated receiver operating
characteristic curves: a nonparametric approach", Biometrics 44(3):837–845. Each model's AUC is the
Mann–Whitney statistic; its *structural components* are, per positive row, the share of negative rows it
outscores (V10) and, per negative row, the share of positive rows that outscore it (V01), ties counting ½.
The covariance matrix of the two AUCs is ``S10 / m + S01 / n`` (``S10``, ``S01`` the 2×2 sample
covariances of the components over the ``m`` positives and the ``n`` negatives), so
``var(AUC_b − AUC_a) = S_aa + S_bb − 2 S_ab``. The components come from midranks in O(N log N) as in Sun & Xu
(2014), "Fast implementation of DeLong's algorithm for comparing the areas under correlated receiver
operating characteristic curves", IEEE Signal Processing Letters 21(11):1389–1393.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata


@dataclass(frozen=True)
class DeLong:
    """The two AUCs (``aucs`` = (a, b)), their covariance matrix ``covariance`` (2×2) and the variance of
    ``b − a``. ``variance`` is ``NaN`` with fewer than two positive or two negative rows."""

    aucs: tuple[float, float]
    covariance: np.ndarray
    variance: float


def delong(positive: np.ndarray, score_a: np.ndarray, score_b: np.ndarray) -> DeLong:
    """DeLong's covariance of the ROC AUCs of ``score_a`` and ``score_b`` (shape (N,), any real scale) for
    the boolean labels ``positive`` (shape (N,)). Raises ``ValueError`` when a class is absent."""
    positive = np.asarray(positive, dtype=bool)
    scores = np.vstack([score_a, score_b]).astype(float)
    x, y = scores[:, positive], scores[:, ~positive]
    m, n = x.shape[1], y.shape[1]
    if m == 0 or n == 0:
        raise ValueError("DeLong's test needs positive and negative rows")
    tx = rankdata(x, axis=1)  # midranks among the positives
    ty = rankdata(y, axis=1)  # … among the negatives
    tz = rankdata(np.hstack([x, y]), axis=1)  # … among all rows
    aucs = (tz[:, :m].sum(1) - m * (m + 1) / 2) / (m * n)
    v10 = (tz[:, :m] - tx) / n  # per positive: negatives below it (ties ½)
    v01 = 1.0 - (tz[:, m:] - ty) / m  # per negative: positives above it (ties ½)
    # S10 / m + S01 / n; undefined (NaN) with a single row of a class
    covariance = np.full((2, 2), np.nan) if min(m, n) < 2 else np.cov(v10) / m + np.cov(v01) / n
    variance = float(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
    if np.isfinite(variance):
        variance = max(variance, 0.0)  # rounding can make the variance of a zero difference −1e-19
    return DeLong(aucs=(float(aucs[0]), float(aucs[1])), covariance=covariance, variance=variance)
