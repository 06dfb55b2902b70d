"""Realized performance: metrics once labels are known, each with its sample count and a 95 % interval.

Intervals: Wilson score intervals for accuracy, precision and recall (proportions) and for F1 written as
the proportion 2TP / (2TP + FP + FN) (an approximation: its numerator and denominator are not a plain
binomial); the Hanley–McNeil standard error for ROC AUC; normal intervals from the sample standard
deviation for MAE, MAPE and (delta method) RMSE.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mlwarden.errors import InputError

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
    y_true: np.ndarray, y_pred: np.ndarray | None, scores: np.ndarray | None, positive: object = 1
) -> dict[str, float | None]:
    """Binary metrics with 95 % intervals. ``positive`` names the positive class."""
    from sklearn.metrics import roc_auc_score

    out: dict[str, float | None] = {"n": float(y_true.size)}
    truth = y_true == positive
    if y_pred is not None:
        pred = y_pred == positive
        tp = float(np.sum(truth & pred))
        fp = float(np.sum(~truth & pred))
        fn = float(np.sum(truth & ~pred))
        correct = float(np.sum(truth == pred))
        for name, k, n in (
            ("accuracy", correct, truth.size),
            ("precision", tp, tp + fp),
            ("recall", tp, tp + fn),
            ("f1", 2 * tp, 2 * tp + fp + fn),
        ):
            out[name] = k / n if n else None
            out[f"{name}_lower"], out[f"{name}_upper"] = wilson(k, n)
    if scores is not None:
        n_pos, n_neg = int(truth.sum()), int((~truth).sum())
        if n_pos and n_neg:
            auc = float(roc_auc_score(truth, scores))
            out["roc_auc"] = auc
            out["roc_auc_lower"], out["roc_auc_upper"] = auc_interval(auc, n_pos, n_neg)
        else:
            out["roc_auc"] = None  # undefined with a single class in the window
    return out


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    """MAE, RMSE and MAPE with 95 % normal intervals."""
    err = y_pred - y_true
    n = err.size
    out: dict[str, float | None] = {"n": float(n)}
    if n == 0:
        return out | {"mae": None, "rmse": None, "mape": None}
    abs_err, sq_err = np.abs(err), err * err

    def se(v: np.ndarray) -> float:
        return float(np.std(v, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")

    mae, mse = float(abs_err.mean()), float(sq_err.mean())
    rmse = math.sqrt(mse)
    out["mae"], out["mae_lower"], out["mae_upper"] = mae, mae - Z * se(abs_err), mae + Z * se(abs_err)
    rmse_se = se(sq_err) / (2 * rmse) if rmse > 0 else 0.0  # delta method
    out["rmse"], out["rmse_lower"], out["rmse_upper"] = rmse, max(0.0, rmse - Z * rmse_se), rmse + Z * rmse_se
    nonzero = y_true != 0
    if nonzero.any():
        ape = abs_err[nonzero] / np.abs(y_true[nonzero])
        mape = float(ape.mean())
        half = Z * float(np.std(ape, ddof=1) / math.sqrt(ape.size)) if ape.size > 1 else float("nan")
        out["mape"], out["mape_lower"], out["mape_upper"] = mape, mape - half, mape + half
    else:
        out["mape"] = None  # undefined when every true value is zero
    return out


def realized_performance(
    data: pd.DataFrame,
    *,
    target: str,
    prediction: str | None = None,
    scores: list[str] | tuple[str, ...] = (),
) -> dict[str, float | None]:
    """Metrics of a labelled frame: classification when the target is boolean/categorical or has ≤ 2 values
    (binary; the larger value or ``True`` is positive), regression otherwise. Rows without a label are
    skipped."""
    for name in (target, prediction, *scores):
        if name is not None and name not in data.columns:
            raise InputError(f"no column '{name}' in the labelled data")
    labelled = data[data[target].notna()]
    y = labelled[target].to_numpy()
    values = pd.unique(y)
    is_regression = pd.api.types.is_float_dtype(labelled[target].dtype) and values.size > 2
    if is_regression:
        if prediction is None:
            raise InputError("regression performance needs --prediction")
        return regression_metrics(y.astype(float), labelled[prediction].to_numpy(dtype=float))
    if values.size > 2:
        raise InputError(
            f"target '{target}' has {values.size} classes; realized metrics support binary targets"
        )
    positive = True if labelled[target].dtype == bool else max(values.tolist(), default=1)
    pred = labelled[prediction].to_numpy() if prediction else None
    score = labelled[scores[-1]].to_numpy(dtype=float) if scores else None
    return classification_metrics(y, pred, score, positive=positive)
