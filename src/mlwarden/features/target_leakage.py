"""Target leakage: how well each feature *alone* predicts the target, out of fold.

Per feature, a small histogram gradient-boosting model (scikit-learn ``HistGradientBoosting*``, 30 trees of
at most 8 leaves, learning rate 0.3) is fitted on that one column in 3-fold cross-validation (stratified
for classification) over a seeded sample of at most 20,000 rows, and the pooled out-of-fold predictions are
scored: ROC AUC for classification (``max(auc, 1 − auc)``; one-vs-rest macro AUC for more than two
classes), R² for regression. A feature that alone nearly determines the target is almost always computed
from it, or observed after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from mlwarden.threads import single_threaded

Task = Literal["classification", "regression"]
MAX_CATEGORIES = 254  # most frequent categories kept per column; the rest share one code
MAX_CLASSES_INTEGER = 20  # an integer target with at most this many values is a class label
_MODEL_PARAMS = {"max_iter": 30, "learning_rate": 0.3, "max_leaf_nodes": 8, "early_stopping": False}


@dataclass(frozen=True, slots=True)
class FeatureScore:
    """Cross-validated score of a one-feature model (None when the column is constant)."""

    column: str
    score: float | None


def target_task(y: pd.Series) -> Task:
    """Classification for non-numeric or boolean targets, two-valued ones, and integers with ≤ 20 values."""
    if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
        return "classification"
    values = y.to_numpy(dtype="float64", na_value=np.nan)
    distinct = pd.unique(values[~np.isnan(values)])
    if len(distinct) <= 2:
        return "classification"
    integral = bool(np.all(distinct == np.round(distinct)))
    return "classification" if integral and len(distinct) <= MAX_CLASSES_INTEGER else "regression"


def single_feature_scores(
    data: pd.DataFrame, target: str, features: list[str], *, max_rows: int, folds: int, seed: int
) -> tuple[Task, list[FeatureScore]]:
    """The task and each feature's out-of-fold score on a sample of at most ``max_rows`` labelled rows."""
    data = data[data[target].notna()]
    if len(data) > max_rows:
        data = data.sample(n=max_rows, random_state=seed)
    task = target_task(data[target])
    y, splits = _target_and_folds(data[target], task, folds, seed)
    if y is None:
        return task, [FeatureScore(c, None) for c in features]
    keep = np.concatenate([test for _, test in splits])
    keep.sort()
    scores = []
    with single_threaded():  # one thread: faster than OpenMP start-up on one-column fits
        for column in features:
            x, categorical = _encode(data[column])
            if x is None:
                scores.append(FeatureScore(column, None))
                continue
            oof = _out_of_fold(x, y, splits, task, categorical, seed)
            scores.append(FeatureScore(column, _score(y[keep], oof[keep], task)))
    return task, scores


def _target_and_folds(
    target: pd.Series, task: Task, folds: int, seed: int
) -> tuple[np.ndarray | None, list[tuple[np.ndarray, np.ndarray]]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    if task == "regression":
        y = target.to_numpy(dtype="float64")
        if len(y) < folds * 2 or np.ptp(y) == 0:
            return None, []
        return y, list(KFold(folds, shuffle=True, random_state=seed).split(y))
    codes, _ = pd.factorize(target, sort=True)
    counts = np.bincount(codes)
    usable = counts[codes] >= folds  # classes too rare to appear in every fold are left out
    if (counts >= folds).sum() < 2:
        return None, []
    index = np.flatnonzero(usable)
    y = np.full(len(codes), -1)
    _, y[index] = np.unique(codes[index], return_inverse=True)
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(index, y[index])
    return y, [(index[train], index[test]) for train, test in splits]


def _encode(column: pd.Series) -> tuple[np.ndarray | None, bool]:
    """One column as a float matrix for the model (None when constant), and whether it is categorical."""
    dtype = column.dtype
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        x = column.to_numpy(dtype="float64", na_value=np.nan)
        finite = x[np.isfinite(x)]
        if finite.size:
            x = np.clip(x, finite.min() - 1, finite.max() + 1)  # ±inf become values just outside the range
        categorical = False
    else:
        codes, uniques = pd.factorize(column)
        if len(uniques) > MAX_CATEGORIES:
            frequent = np.argsort(-np.bincount(codes[codes >= 0]), kind="stable")[:MAX_CATEGORIES]
            recode = np.full(len(uniques), MAX_CATEGORIES)
            recode[frequent] = np.arange(len(frequent))
            codes = np.where(codes >= 0, recode[np.maximum(codes, 0)], -1)
        x = np.where(codes >= 0, codes, np.nan).astype("float64")
        categorical = True
    present = x[~np.isnan(x)]
    if present.size == 0 or (np.all(present == present[0]) and present.size == x.size):
        return None, categorical
    return x.reshape(-1, 1), categorical


def _out_of_fold(
    x: np.ndarray,
    y: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    task: Task,
    categorical: bool,
    seed: int,
) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    n_classes = int(y.max()) + 1 if task == "classification" else 0
    shape = (len(y), n_classes) if task == "classification" and n_classes > 2 else (len(y),)
    oof = np.zeros(shape)
    params = {**_MODEL_PARAMS, "categorical_features": [0] if categorical else None, "random_state": seed}
    for train, test in splits:
        if task == "regression":
            oof[test] = HistGradientBoostingRegressor(**params).fit(x[train], y[train]).predict(x[test])
        else:
            proba = HistGradientBoostingClassifier(**params).fit(x[train], y[train]).predict_proba(x[test])
            oof[test] = proba[:, 1] if n_classes == 2 else proba
    return oof


def _score(y: np.ndarray, prediction: np.ndarray, task: Task) -> float:
    from sklearn.metrics import r2_score, roc_auc_score

    if task == "regression":
        return float(r2_score(y, prediction))
    if prediction.ndim == 1:
        auc = float(roc_auc_score(y, prediction))
        return max(auc, 1.0 - auc)
    return float(roc_auc_score(y, prediction, multi_class="ovr", average="macro"))
