"""The paired (stratified) bootstrap: both models re-scored on the same resampled rows.

Every draw resamples the rows with replacement — within each target class for a classifier, so each draw
keeps the class counts of the data (stratified), over all rows for a regression model — and computes the
metric difference challenger − champion on that one resample. Pairing (the same rows for both models)
cancels the variance the models share. The interval is the percentile interval of the ``DRAWS`` differences
(Efron & Tibshirani 1993, ch. 13); the two-sided p-value of "no difference" is
``min(1, 2 · min(#{d ≤ 0} + 1, #{d ≥ 0} + 1) / (DRAWS + 1))`` — the smallest level at which the percentile
interval would exclude 0 (Davison & Hinkley 1997, §4.4; + 1 so that it is never 0).

Two vectorised forms, no Python loop over draws or rows:

- metrics of the confusion counts (precision, recall, F1): resampling ``n_c`` rows of class ``c`` is
  exactly a multinomial draw of ``n_c`` over the class's (champion prediction, challenger prediction)
  cells, so each draw costs O(k²), not O(n);
- metrics of a mean of per-row losses (log loss, Brier, MAE, RMSE, MAPE): index matrices of
  ``draws × n_c`` row numbers per class, in chunks of at most ``CHUNK`` indices; a difference of means
  gathers only the per-row difference of the two models' losses (RMSE, a square root of a mean, gathers
  both).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DRAWS = 2000
CHUNK = 4_000_000  # indices per index-matrix chunk (16 MB of int32)


def table_draws(
    truth: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, k: int, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Resampled confusion tables of both models, each (draws, k, k + 1): ``[d, true class, predicted
    class + 1]`` (column 0: a prediction outside the classes). ``truth`` holds codes 0..k−1, the
    predictions −1..k−1; rows resampled within each true class."""
    cells = (pred_a + 1) * (k + 1) + (pred_b + 1)
    side = k + 1
    table_a = np.zeros((draws, k, side), dtype=np.int64)
    table_b = np.zeros((draws, k, side), dtype=np.int64)
    for c in range(k):  # classes, not rows
        counts = np.bincount(cells[truth == c], minlength=side * side)
        n_c = int(counts.sum())
        if n_c == 0:
            continue
        joint = rng.multinomial(n_c, counts / n_c, size=draws).reshape(draws, side, side)
        table_a[:, c, :] = joint.sum(2)
        table_b[:, c, :] = joint.sum(1)
    return table_a, table_b


def mean_draws(
    columns: Sequence[np.ndarray], strata: Sequence[np.ndarray], draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Means of each of the ``columns`` (arrays of shape (n,)) over ``draws`` resamples, shape
    (draws, len(columns)); each stratum (an array of row numbers) is resampled to its own size."""
    n = sum(len(rows) for rows in strata)
    sums = np.zeros((draws, len(columns)))
    for rows in strata:
        values = [column[rows] for column in columns]
        step = max(1, CHUNK // max(len(rows), 1))
        for start in range(0, draws, step):  # chunks of draws, each an index matrix
            stop = min(start + step, draws)
            picks = rng.integers(0, len(rows), size=(stop - start, len(rows)), dtype=np.int32)
            for j, column in enumerate(values):  # one 1-d gather per column: faster than an (n, q) gather
                sums[start:stop, j] += np.take(column, picks).sum(axis=1)
    return sums / n


def percentile_interval(
    differences: np.ndarray, confidence: float
) -> tuple[tuple[float, float], float] | None:
    """The percentile interval at two-sided level ``confidence`` and the bootstrap p-value of the finite
    ``differences``; ``None`` when fewer than half the draws are finite (the metric is mostly undefined on
    resamples, e.g. a precision with almost no predicted positives)."""
    finite = differences[np.isfinite(differences)]
    if finite.size < differences.size / 2 or finite.size == 0:
        return None
    alpha = 1.0 - confidence
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    tail = min(np.count_nonzero(finite <= 0), np.count_nonzero(finite >= 0))
    p = min(1.0, 2.0 * (tail + 1) / (finite.size + 1))
    return (float(low), float(high)), p
