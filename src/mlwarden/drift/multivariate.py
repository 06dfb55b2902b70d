"""Multivariate drift: can a classifier tell reference rows from current rows?

A gradient-boosted classifier is trained to separate the two profiles' row samples; its cross-validated
ROC AUC is the score (0.5: indistinguishable). It sees joint structure that per-column tests cannot — two
features whose correlation flips sign with unchanged marginals, for instance. Drifted when the AUC
reaches the threshold *and* is significantly above 0.5.

The p-value: the AUC is the mean of the folds' AUCs, each computed on a held-out fold scored by one model
trained without it. Under "no difference" the held-out rows' labels are exchangeable given the model, so a
fold's AUC is a Mann–Whitney statistic: mean 1/2, standard deviation s_k = √((a + b + 1) / (12 a b)) for a
fold of a reference and b current rows (ties in the scores only shrink it). The folds share training rows,
so their AUCs are correlated — but the standard deviation of a mean is at most the mean of the standard
deviations, whatever the correlation. The z-score (AUC − 1/2) / mean(s_k) is therefore conservative; its
normal tail is the p-value. (Pooling all out-of-fold scores into one AUC, as a Mann–Whitney test on n₁ + n₂
rows, is not valid: the folds' models score on different scales, which inflates the pooled AUC's variance.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata

from mlwarden.threads import single_threaded

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingClassifier

MIN_ROWS_PER_SIDE = 30
FOLDS = 3
MAX_CATEGORIES = 250  # HistGradientBoosting's categorical limit is 255 bins


@dataclass(frozen=True, slots=True)
class DomainClassifierResult:
    auc: float
    p_value: float
    n_reference: int
    n_current: int
    columns: list[str]
    note: str | None = None


def encode(ref: pd.DataFrame, cur: pd.DataFrame, categorical: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stack both samples as floats; categories become shared integer codes (NaN for missing)."""
    both = pd.concat([ref, cur], ignore_index=True)
    columns = []
    mask = []
    for name in both.columns:
        if name in categorical:
            codes, _ = pd.factorize(both[name], use_na_sentinel=True)
            columns.append(np.where(codes < 0, np.nan, codes).astype(float))
            mask.append(True)
        else:
            columns.append(_finite(both[name].to_numpy(dtype=float, na_value=np.nan)))
            mask.append(False)
    return np.column_stack(columns), np.array(mask, dtype=bool)


def _finite(values: np.ndarray) -> np.ndarray:
    """``values`` with +inf and -inf replaced by stand-ins beyond the finite values' range (NaN kept).

    The classifier bins each column at its quantiles, which infinities turn into NaN ("invalid value"
    warnings on stderr); a tree only sees the values' order, which the stand-ins keep."""
    infinite = np.isinf(values)
    if not infinite.any():
        return values
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    step = max(min(high - low, 1e300), 1.0)  # 1e300: no overflow for values near the float limits
    return np.where(infinite, np.where(values > 0, high + step, low - step), values)


def domain_classifier(
    ref: pd.DataFrame, cur: pd.DataFrame, categorical: list[str], *, max_rows: int, seed: int = 0
) -> DomainClassifierResult:
    """Cross-validated ROC AUC of a classifier separating ``ref`` rows from ``cur`` rows."""
    from sklearn.metrics import roc_auc_score

    columns = list(ref.columns)
    ref, cur = ref.iloc[:max_rows], cur.iloc[:max_rows]
    n1, n2 = len(ref), len(cur)
    if min(n1, n2) < MIN_ROWS_PER_SIDE or not columns:
        note = f"needs at least {MIN_ROWS_PER_SIDE} sampled rows per side and one column"
        return DomainClassifierResult(float("nan"), float("nan"), n1, n2, columns, note)
    x, is_cat = encode(ref, cur, categorical)
    y = np.r_[np.zeros(n1), np.ones(n2)]
    # One OpenMP thread: on a few thousand rows more threads gain little, and under CPU contention (the
    # service evaluates while it ingests) OpenMP's spin-waiting turned a 0.2 s fit into 12 s.
    with single_threaded():
        folds = _fold_scores(x, y, is_cat, seed)
    aucs, sds = [], []
    for y_test, scores in folds:
        a, b = int((y_test == 0).sum()), int((y_test == 1).sum())
        aucs.append(float(roc_auc_score(y_test, scores)))
        sds.append(np.sqrt((a + b + 1) / (12 * a * b)))
    auc = float(np.mean(aucs))
    return DomainClassifierResult(auc, float(norm.sf((auc - 0.5) / np.mean(sds))), n1, n2, columns)


def _fold_scores(
    x: np.ndarray, y: np.ndarray, is_cat: np.ndarray, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per fold, the held-out labels and P(current) from a small gradient-boosted classifier trained on the
    other folds."""
    from sklearn.model_selection import StratifiedKFold

    out = []
    for train, test in StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed).split(x, y):
        model = _classifier(is_cat, seed).fit(x[train], y[train])
        out.append((y[test], model.predict_proba(x[test])[:, 1]))
    return out


def _classifier(is_cat: np.ndarray, seed: int) -> HistGradientBoostingClassifier:
    """The small gradient-boosted classifier both variants train."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=20,
        learning_rate=0.3,
        max_leaf_nodes=15,
        categorical_features=is_cat if is_cat.any() else None,
        early_stopping=False,
        random_state=seed,
    )


def pooled_domain_classifier(
    ref: pd.DataFrame, currents: list[pd.DataFrame], categorical: list[str], *, max_rows: int, seed: int = 0
) -> list[DomainClassifierResult]:
    """One classifier for many current samples (chunks): a result per current, at the cost of one.

    The classifier learns to separate ``ref`` (at most ``max_rows`` rows) from a pooled current side: from
    each of the k currents, ``max_rows // k`` rows (at most half of its sample). Each current's AUC is then
    measured, fold by fold, between the held-out reference rows and that current's *other* rows, scored by
    the fold's model: neither side was seen in training, so under "no difference" their labels are
    exchangeable and the Mann–Whitney p-value of :func:`domain_classifier` holds. The price: a change
    confined to one current of k is 1/k of what the classifier trains on, so it is found less readily than
    by a classifier of its own.
    """

    columns = list(ref.columns)
    ref = ref.iloc[:max_rows]
    rng = np.random.default_rng(seed)
    share = max(max_rows // max(len(currents), 1), 1)
    train, held = [], []
    for cur in currents:
        cur = cur.iloc[:max_rows]
        order = rng.permutation(len(cur))
        cut = min(share, len(cur) // 2)
        train.append(cur.iloc[order[:cut]])
        held.append(cur.iloc[order[cut:]])
    pooled = pd.concat(train, ignore_index=True)
    n1, n2 = len(ref), len(pooled)
    if min(n1, n2) < MIN_ROWS_PER_SIDE or not columns:
        note = f"needs at least {MIN_ROWS_PER_SIDE} sampled rows per side and one column"
        return [DomainClassifierResult(float("nan"), float("nan"), n1, len(c), columns, note) for c in held]
    x, is_cat = encode(ref, pd.concat([pooled, *held], ignore_index=True), categorical)
    x_fit, sizes = x[: n1 + n2], [len(h) for h in held]
    y = np.r_[np.zeros(n1), np.ones(n2)]
    # one OpenMP thread for the fits and the predictions alike (see domain_classifier)
    with single_threaded():
        folds = [
            (
                model.predict_proba(x_fit[test])[:, 1],
                np.split(model.predict_proba(x[n1 + n2 :])[:, 1], np.cumsum(sizes)[:-1]),
            )
            for model, test in _fold_models(x_fit, y, is_cat, seed)
        ]
    results = []
    for k, size in enumerate(sizes):
        if size < MIN_ROWS_PER_SIDE:
            note = f"needs at least {MIN_ROWS_PER_SIDE} sampled rows besides those pooled for training"
            results.append(DomainClassifierResult(float("nan"), float("nan"), n1, size, columns, note))
            continue
        aucs = [_auc(ref_scores, held_scores[k]) for ref_scores, held_scores in folds]
        sds = [np.sqrt((r.size + size + 1) / (12 * r.size * size)) for r, _ in folds]
        auc = float(np.mean(aucs))
        results.append(
            DomainClassifierResult(auc, float(norm.sf((auc - 0.5) / np.mean(sds))), n1, size, columns)
        )
    return results


def _auc(negative: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC of ``positive`` scores above ``negative`` ones (ties count half): Mann–Whitney U / (a b)."""
    ranks = rankdata(np.r_[negative, positive])
    b = positive.size
    return float((ranks[negative.size :].sum() - b * (b + 1) / 2) / (negative.size * b))


def _fold_models(
    x: np.ndarray, y: np.ndarray, is_cat: np.ndarray, seed: int
) -> list[tuple[object, np.ndarray]]:
    """Per fold, the classifier trained on the other folds and the fold's held-out reference rows."""
    from sklearn.model_selection import StratifiedKFold

    out = []
    for train, test in StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed).split(x, y):
        model = _classifier(is_cat, seed).fit(x[train], y[train])
        out.append((model, test[y[test] == 0]))
    return out
