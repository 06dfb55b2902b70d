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


def task_of(target: pd.Series) -> str:
    """``binary``, ``multiclass`` or ``regression``, from a target column's dtype and distinct values.

    Booleans, strings and categories are classes; numbers with at most two distinct values are binary;
    integers with at most 20 distinct values are classes; other numbers are a regression target.
    """
    values = pd.unique(target.dropna())
    numeric = pd.api.types.is_numeric_dtype(target.dtype) and not pd.api.types.is_bool_dtype(target.dtype)
    if len(values) <= 2:
        return "binary"
    if not numeric:
        return "multiclass"
    whole = pd.api.types.is_integer_dtype(target.dtype) or bool((values == values.round()).all())
    return "multiclass" if whole and len(values) <= 20 else "regression"


def realized_performance(
    data: pd.DataFrame,
    *,
    target: str,
    prediction: str | None = None,
    scores: list[str] | tuple[str, ...] = (),
) -> dict[str, float | None]:
    """Metrics of a labelled frame (rows without a label are skipped); the task comes from :func:`task_of`.

    Binary: the larger label (or ``True``) is positive and the last score column is P(positive).
    Multiclass: macro-averaged precision/recall/F1; ROC AUC one-vs-rest when one score column per class
    (sorted label order) is given."""
    for name in (target, prediction, *scores):
        if name is not None and name not in data.columns:
            raise InputError(f"no column '{name}' in the labelled data")
    labelled = data[data[target].notna()]
    y = labelled[target].to_numpy()
    task = task_of(labelled[target])
    pred = labelled[prediction].to_numpy() if prediction else None
    if task == "regression":
        if pred is None:
            raise InputError("regression performance needs the prediction column")
        return regression_metrics(y.astype(float), pred.astype(float))
    if task == "multiclass":
        return multiclass_metrics(y, pred, labelled[list(scores)].to_numpy(float) if scores else None)
    positive = True if labelled[target].dtype == bool else max(pd.unique(y).tolist(), default=1)
    score = labelled[scores[-1]].to_numpy(dtype=float) if scores else None
    return classification_metrics(y, pred, score, positive=positive)


def multiclass_metrics(y_true: np.ndarray, y_pred: np.ndarray | None, scores: np.ndarray | None) -> dict:
    """Accuracy (Wilson interval), macro precision/recall/F1, and one-vs-rest macro ROC AUC."""
    from sklearn.metrics import precision_recall_fscore_support, roc_auc_score

    out: dict[str, float | None] = {"n": float(y_true.size)}
    classes = sorted(pd.unique(y_true).tolist())
    if y_pred is not None:
        correct = float(np.sum(y_true == y_pred))
        out["accuracy"] = correct / y_true.size if y_true.size else None
        out["accuracy_lower"], out["accuracy_upper"] = wilson(correct, y_true.size)
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=classes, average="macro", zero_division=0
        )
        out.update(precision=float(p), recall=float(r), f1=float(f))
    if scores is not None and scores.shape[1] == len(classes) and len(classes) > 2:
        out["roc_auc"] = float(roc_auc_score(y_true, scores, multi_class="ovr", labels=classes))
    return out
