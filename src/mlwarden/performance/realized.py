"""Realized performance: metrics once labels are known, each with its sample count and a 95 % interval.

The metrics are defined once, in :mod:`mlwarden.performance.metrics` (shared with CBPE's estimates).
Intervals: Wilson score intervals for accuracy and, for a binary model, precision and recall
(proportions) and F1 written as the proportion 2TP / (2TP + FP + FN) (an approximation: its numerator and
denominator are not a plain binomial); the Hanley–McNeil standard error for a binary ROC AUC (multiclass
macro metrics carry none); Student-t intervals from the sample standard deviation for MAE, MAPE and (delta
method) RMSE.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist

from mlwarden.performance.labels import label_key, label_keys
from mlwarden.performance.metrics import Confusion, roc_auc, to_floats

Z = 1.959963984540054  # two-sided 95 %


def wilson(successes: float, n: float) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion (None, None) when n == 0."""
    if n <= 0:
        return None, None
    p = successes / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def auc_interval(auc: float, n_pos: int, n_neg: int) -> tuple[float, float]:
    """Hanley–McNeil (1982) 95 % interval of a ROC AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (
        n_pos * n_neg
    )
    half = Z * math.sqrt(max(var, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def classification_metrics(
    y_true: np.ndarray | pd.Series,
    y_pred: np.ndarray | pd.Series | None,
    scores: np.ndarray | None,
    *,
    classes: list | None = None,
    positive: object = 1,
) -> dict[str, float | None]:
    """Realized classification metrics of labelled rows, with 95 % intervals (see the module docstring).

    ``classes`` are the model's classes in score-column order; a binary model (``classes`` ``None`` or of
    two) is scored for its ``positive`` class and ``scores`` is P(positive), shape (n,) or (n, 1); a
    multiclass model gets macro averages over *all* its classes and ``scores`` is (n, k) in ``classes``
    order. Labels may be of any type (:mod:`mlwarden.performance.labels`). Rows with a missing prediction
    are left out of the prediction metrics, rows with a non-finite score out of ROC AUC: ``n_predicted``
    and ``n_scored`` count the rows each used. Definitions: :mod:`mlwarden.performance.metrics`.
    """
    truth_keys = label_keys(y_true)
    binary = classes is None or len(classes) <= 2
    keys = [label_key(positive)] if binary else [label_key(c) for c in classes]
    truth = (truth_keys[:, None] == np.asarray(keys, dtype=object)[None, :]).astype(float)
    out: dict[str, float | None] = {"n": float(truth.shape[0])}
    if y_pred is not None:
        has_pred = pd.notna(np.asarray(y_pred))
        predicted = pd.Index(keys).get_indexer(label_keys(np.asarray(y_pred)[has_pred]))
        if binary:
            predicted = (predicted == 0).astype(int)
        confusion = Confusion.of(truth[has_pred], predicted)
        out["n_predicted"] = float(confusion.n)
        out.update(to_floats(confusion.metrics()))
        out["accuracy_lower"], out["accuracy_upper"] = wilson(float(confusion.correct), confusion.n)
        if binary:
            tp, fp, fn = float(confusion.tp[0]), float(confusion.fp[0]), float(confusion.fn[0])
            for name, k, n in (
                ("precision", tp, tp + fp),
                ("recall", tp, tp + fn),
                ("f1", 2 * tp, 2 * tp + fp + fn),
            ):
                out[f"{name}_lower"], out[f"{name}_upper"] = wilson(k, n)
    if scores is not None:
        matrix = np.asarray(scores, dtype=float)
        matrix = matrix[:, None] if matrix.ndim == 1 else matrix
        finite = np.isfinite(matrix).all(axis=1)
        out["n_scored"] = float(finite.sum())
        value = roc_auc(truth[finite], matrix[finite])
        out["roc_auc"] = float(value) if np.isfinite(value) else None
        if binary and out["roc_auc"] is not None:
            n_pos = int(truth[finite, 0].sum())
            out["roc_auc_lower"], out["roc_auc_upper"] = auc_interval(
                out["roc_auc"], n_pos, int(finite.sum()) - n_pos
            )
    return out


def mean_bands(name: str, values: np.ndarray, *, root: bool = False) -> dict[str, float | None]:
    """``{name_lower, name_upper}``: the 95 % Student-t interval of ``values.mean()`` (t with n − 1 degrees
    of freedom, ``scipy.stats.t``: a normal quantile would be far too narrow for a handful of rows), or of
    its square root with ``root`` (delta method). ``None`` bounds for fewer than two values."""
    n = values.size
    if n < 2:
        return {f"{name}_lower": None, f"{name}_upper": None}
    mean = float(values.mean())
    half = float(t_dist.ppf(0.975, n - 1) * np.std(values, ddof=1) / math.sqrt(n))
    if root:
        centre = math.sqrt(max(mean, 0.0))
        half = half / (2 * centre) if centre > 0 else 0.0
        return {f"{name}_lower": max(0.0, centre - half), f"{name}_upper": centre + half}
    return {f"{name}_lower": mean - half, f"{name}_upper": mean + half}


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    """MAE, RMSE and MAPE with 95 % Student-t intervals (:func:`mean_bands`)."""
    err = y_pred - y_true
    n = err.size
    out: dict[str, float | None] = {"n": float(n)}
    if n == 0:
        return out | {"mae": None, "rmse": None, "mape": None}
    abs_err, sq_err = np.abs(err), err * err
    out["mae"] = float(abs_err.mean())
    out.update(mean_bands("mae", abs_err))
    out["rmse"] = math.sqrt(float(sq_err.mean()))
    out.update(mean_bands("rmse", sq_err, root=True))
    nonzero = y_true != 0
    if nonzero.any():
        ape = abs_err[nonzero] / np.abs(y_true[nonzero])
        out["mape"] = float(ape.mean())
        out.update(mean_bands("mape", ape))
    else:
        out["mape"] = None  # undefined when every true value is zero
    return out
