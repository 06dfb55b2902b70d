"""Both models' outputs on the same labelled rows, as the arrays the paired tests take.

A model is a column of the frame or a fitted estimator. An estimator is applied to the frame's **feature
columns**: every column except the target, the slice columns and the columns named as champion or
challenger outputs, in the frame's order (a scikit-learn pipeline selects and encodes what it needs).
Its ``predict_proba`` column of the positive class is its score, ``predict`` its label or value.

Rows without a label are left out (the gate says how many). A missing or non-finite model output is an
error: both models are compared on the same rows or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from mlwarden.errors import InputError
from mlwarden.performance.classes import MAX_CLASSES
from mlwarden.performance.labels import label_key, label_keys, sorted_labels
from mlwarden.retrain.metrics import Metric

Model = str | Any  # a column name, or a fitted estimator with predict_proba / predict
PROBABILITY_METRICS = ("log_loss", "brier")
THRESHOLD = 0.5  # a binary score column used for a label metric: score ≥ 0.5 predicts the positive class


@dataclass(frozen=True)
class PairedOutputs:
    """``truth``: class codes 0..k−1 (classification) or values (regression), shape (n,); ``champion`` /
    ``challenger``: each model's outputs on the same rows (``None`` for a missing champion); ``classes``:
    the target's class labels as keys (``()`` for regression); ``positive``: the positive class's code of a
    binary target, else ``None``."""

    truth: np.ndarray
    champion: np.ndarray | None
    challenger: np.ndarray
    classes: tuple[str, ...] = ()
    positive: int | None = None

    @property
    def k(self) -> int:
        return len(self.classes)

    def subset(self, rows: np.ndarray) -> PairedOutputs:
        return replace(
            self,
            truth=self.truth[rows],
            champion=None if self.champion is None else self.champion[rows],
            challenger=self.challenger[rows],
        )


def labelled(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, int]:
    """The rows with a label and the number left out; raises :class:`InputError` when none is labelled."""
    if target not in frame.columns:
        raise InputError(f"target: no column {target!r} in the data")
    has_label = frame[target].notna().to_numpy()
    if not has_label.any():
        raise InputError(f"target {target!r}: no row has a label")
    dropped = int((~has_label).sum())
    return (frame[has_label].reset_index(drop=True) if dropped else frame), dropped


def paired_outputs(
    rows: pd.DataFrame,
    *,
    target: str,
    champion: Model | None,
    challenger: Model,
    metric: Metric,
    slices: tuple[str, ...],
    positive_label: object = None,
) -> PairedOutputs:
    """Resolve the target and both models on the labelled ``rows``. Raises :class:`InputError` naming the
    column or argument: a missing column, a target of the wrong kind for ``metric`` (a classification
    metric needs 2..``MAX_CLASSES`` classes; ROC AUC, log loss and Brier a binary target), a missing or
    non-finite output, probabilities outside [0, 1], an estimator that fails on the feature columns."""
    named = [m for m in (champion, challenger) if isinstance(m, str)]
    for column in named:
        if column not in rows.columns:
            raise InputError(f"{_role(column, champion)}: no column {column!r} in the data")
    excluded = list(dict.fromkeys([target, *slices, *named]))  # the rest are the estimators' features
    if metric.task == "regression":
        truth = _numbers(rows[target], f"target {target!r}")
        classes: tuple[str, ...] = ()
        positive = None
    else:
        classes, positive = _classes(rows[target], target, metric, positive_label)
        truth = _codes(label_keys(rows[target]), classes)

    def resolve(model: Model, role: str) -> np.ndarray:
        if isinstance(model, str):
            return _from_column(rows[model], f"{role} column {model!r}", metric, classes, positive)
        return _from_estimator(model, rows.drop(columns=excluded), role, metric, classes, positive)

    return PairedOutputs(
        truth=truth,
        champion=None if champion is None else resolve(champion, "champion"),
        challenger=resolve(challenger, "challenger"),
        classes=classes,
        positive=positive,
    )


def _role(column: str, champion: Model | None) -> str:
    return "champion" if isinstance(champion, str) and champion == column else "challenger"


def _classes(
    target: pd.Series, name: str, metric: Metric, positive_label: object
) -> tuple[tuple[str, ...], int | None]:
    keys = set(label_keys(target))
    if len(keys) > MAX_CLASSES:
        raise InputError(
            f"target {name!r}: {len(keys)} distinct values; {metric.name} needs class labels "
            f"(at most {MAX_CLASSES}) — for a numeric target use mae, rmse or mape"
        )
    if positive_label is not None:
        keys.add(label_key(positive_label))
    classes = tuple(sorted_labels(keys, field=f"target {name!r}", strict=False))
    if len(classes) < 2:
        raise InputError(
            f"target {name!r}: one class only ({classes[0]}); the gate needs labelled rows of both"
        )
    if len(classes) > 2:
        if positive_label is not None:
            raise InputError(f"positive_label: target {name!r} has {len(classes)} classes, not 2")
        if metric.output == "score":
            raise InputError(
                f"metric {metric.name}: needs a binary target, {name!r} has {len(classes)} classes "
                "(use accuracy, precision, recall or f1)"
            )
        return classes, None
    positive = classes[-1] if positive_label is None else label_key(positive_label)
    return classes, classes.index(positive)


def _codes(keys: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """Class codes of label keys; −1 for a label that is not a class."""
    return pd.Categorical(keys, categories=list(classes)).codes.astype(np.int64)


def _numbers(values: pd.Series | np.ndarray, what: str) -> np.ndarray:
    series = pd.Series(values, copy=False)
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise InputError(f"{what}: expected numbers, got {series.dtype}")
    array = series.to_numpy(dtype=float, na_value=np.nan)
    bad = int((~np.isfinite(array)).sum())
    if bad:
        raise InputError(
            f"{what}: {bad:,} missing or non-finite values; both models need an output on every row"
        )
    return array


def _from_column(
    column: pd.Series, what: str, metric: Metric, classes: tuple[str, ...], positive: int | None
) -> np.ndarray:
    if metric.output != "label":
        return _checked_scores(_numbers(column, what), what, metric)
    if column.isna().any():
        raise InputError(f"{what}: {int(column.isna().sum()):,} missing predictions")
    keys = label_keys(column)
    if (
        positive is not None
        and pd.api.types.is_numeric_dtype(column.dtype)
        and not np.isin(keys, classes).all()
    ):
        scores = _numbers(column, what)
        if scores.min() >= 0.0 and scores.max() <= 1.0:  # P(positive class): decide at THRESHOLD
            return np.where(scores >= THRESHOLD, positive, 1 - positive).astype(np.int64)
    return _codes(keys, classes)


def _from_estimator(
    model: Any,
    features: pd.DataFrame,
    role: str,
    metric: Metric,
    classes: tuple[str, ...],
    positive: int | None,
) -> np.ndarray:
    method = "predict_proba" if metric.output == "score" else "predict"
    if not callable(getattr(model, method, None)):
        raise InputError(
            f"{role}: expected a column name or a fitted estimator with {method}(), "
            f"got {type(model).__name__}"
        )
    try:
        output = np.asarray(getattr(model, method)(features))
    except Exception as exc:  # the estimator's own complaint (unfitted, missing features …), as one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{role}: {method}() failed on the feature columns: {first}") from exc
    what = f"{role} {method}()"
    if metric.output == "label":
        return _codes(label_keys(output.ravel()), classes)
    if metric.output == "value":
        return _numbers(output.ravel(), what)
    model_classes = [label_key(c) for c in getattr(model, "classes_", [])]
    if output.ndim != 2 or output.shape[1] != len(model_classes) or classes[positive] not in model_classes:
        raise InputError(
            f"{role}: predict_proba() columns {model_classes} do not include the positive class "
            f"{classes[positive]!r}"
        )
    return _checked_scores(output[:, model_classes.index(classes[positive])].astype(float), what, metric)


def _checked_scores(scores: np.ndarray, what: str, metric: Metric) -> np.ndarray:
    if metric.name in PROBABILITY_METRICS and (scores.min() < 0.0 or scores.max() > 1.0):
        raise InputError(
            f"{what}: {metric.name} needs probabilities in [0, 1], got values in "
            f"[{scores.min():.3g}, {scores.max():.3g}]"
        )
    return scores
