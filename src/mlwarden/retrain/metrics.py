"""The metrics the gate compares: direction, the model output each needs, its paired test, and its value.

Values are scikit-learn's (``roc_auc_score``, ``accuracy_score``, ``precision_score``, ``recall_score``,
``f1_score``, ``log_loss``, ``brier_score_loss``, ``mean_absolute_error``, ``root_mean_squared_error``,
``mean_absolute_percentage_error``); the paired test around them is the gate's. Inputs are the arrays of
:class:`mlwarden.retrain.outputs.PairedOutputs`: class codes ``0..k-1`` for targets and predicted labels
(``-1`` for a predicted label that is not a class of the target), P(positive class) for scores, numbers for
regression. Binary precision, recall and F1 are those of the positive class (``NaN`` when 0/0); multiclass
ones the macro average over the target's classes (a class's 0/0 counting as 0), as in
:mod:`mlwarden.performance.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn import metrics as skm

from mlwarden.performance.metrics import Confusion

Output = Literal["score", "label", "value"]
Test = Literal["delong", "mcnemar", "bootstrap"]


@dataclass(frozen=True)
class Metric:
    """One comparable metric. ``output``: what each model must provide — ``score`` P(positive class) of a
    binary classifier, ``label`` a predicted class, ``value`` a regression prediction."""

    name: str
    output: Output
    higher_is_better: bool
    test: Test

    @property
    def task(self) -> Literal["classification", "regression"]:
        return "regression" if self.output == "value" else "classification"


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("roc_auc", "score", True, "delong"),
        Metric("accuracy", "label", True, "mcnemar"),
        Metric("precision", "label", True, "bootstrap"),
        Metric("recall", "label", True, "bootstrap"),
        Metric("f1", "label", True, "bootstrap"),
        Metric("log_loss", "score", False, "bootstrap"),
        Metric("brier", "score", False, "bootstrap"),
        Metric("mae", "value", False, "bootstrap"),
        Metric("rmse", "value", False, "bootstrap"),
        Metric("mape", "value", False, "bootstrap"),
    )
}
TABLE_METRICS = ("precision", "recall", "f1")  # functions of the confusion counts
MEAN_METRICS = ("log_loss", "brier", "mae", "rmse", "mape")  # functions of a mean of per-row losses
_LABEL_SCORERS = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}


def metric_value(name: str, truth: np.ndarray, predicted: np.ndarray, k: int, positive: int | None) -> float:
    """The metric of one model on some rows (scikit-learn's value); ``NaN`` where it is undefined (ROC AUC
    without both classes, a binary precision with no predicted positive …). ``k`` is the number of classes,
    ``positive`` the positive class's code of a binary target (``None`` for multiclass and regression)."""
    if name == "roc_auc":
        y = truth == positive
        return float(skm.roc_auc_score(y, predicted)) if 0 < y.sum() < y.size else float("nan")
    if name == "accuracy":
        return float(skm.accuracy_score(truth, predicted))
    if name in _LABEL_SCORERS:
        scorer = _LABEL_SCORERS[name]
        if positive is not None:
            return float(scorer(truth == positive, predicted == positive, zero_division=np.nan))
        return float(scorer(truth, predicted, labels=np.arange(k), average="macro", zero_division=0))
    if name == "log_loss":
        return float(skm.log_loss(truth == positive, predicted, labels=[False, True]))
    if name == "brier":
        return float(skm.brier_score_loss(truth == positive, predicted, pos_label=True))
    if name == "mae":
        return float(skm.mean_absolute_error(truth, predicted))
    if name == "rmse":
        return float(skm.root_mean_squared_error(truth, predicted))
    if name == "mape":
        return float(skm.mean_absolute_percentage_error(truth, predicted))
    raise ValueError(f"unknown metric {name!r}")


def row_losses(name: str, truth: np.ndarray, predicted: np.ndarray, positive: int | None) -> np.ndarray:
    """Per-row terms whose mean (then :func:`finish`) is the metric, shape (n,): as scikit-learn computes
    them (log loss clips probabilities to [eps, 1 − eps]; MAPE divides by max(|y|, eps))."""
    eps = np.finfo(np.float64).eps
    if name == "log_loss":
        p = np.clip(predicted, eps, 1 - eps)
        return -np.log(np.where(truth == positive, p, 1 - p))
    if name == "brier":
        return (predicted - (truth == positive)) ** 2
    if name == "mae":
        return np.abs(truth - predicted)
    if name == "rmse":
        return (truth - predicted) ** 2
    if name == "mape":
        return np.abs(truth - predicted) / np.maximum(np.abs(truth), eps)
    raise ValueError(f"{name!r} is not a mean of per-row losses")


def finish(name: str, mean_loss: np.ndarray) -> np.ndarray:
    """The metric from the mean of its per-row losses (RMSE: the square root; the others: the mean)."""
    return np.sqrt(mean_loss) if name == "rmse" else mean_loss


def table_metric(name: str, table: np.ndarray, positive: int | None) -> np.ndarray:
    """Precision, recall or F1 from confusion tables ``table[..., true class, predicted class + 1]`` (column
    0 counts predictions outside the classes), shape (..., k, k + 1) → (...)."""
    tp = np.diagonal(table[..., 1:], axis1=-2, axis2=-1)
    fp = table[..., 1:].sum(-2) - tp
    fn = table.sum(-1) - tp
    correct = tp.sum(-1)
    if positive is not None:
        tp, fp, fn = (a[..., positive : positive + 1] for a in (tp, fp, fn))
    n = int(table[(0,) * (table.ndim - 2)].sum())
    return Confusion(tp=tp, fp=fp, fn=fn, correct=correct, n=n).metrics()[name]
