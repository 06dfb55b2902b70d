"""The one definition of every classification metric, shared by realized and estimated (CBPE) performance.

Both feed *class-membership weights*: realized metrics 0/1 labels, CBPE the calibrated probabilities (each row
then contributes its expected share of the confusion matrix). Same counts, same averaging, same zero-division
rules — so an estimate and a realized value differ only by the data, never by the definition.

Shapes: ``truth`` is (..., n, k) — leading axes batch bootstrap draws. ``k == 1`` means a **binary** model:
the column is "row is of the positive class". ``k >= 2`` means a **multiclass** model with ``k`` classes
in the model's class order. ``predicted`` is (n,) integer: binary 1 = predicted positive, 0 = not;
multiclass the predicted class's index, -1 for a label outside the model's classes. ``scores`` is (n, k).

Definitions (sklearn's, with ``labels=`` the model's classes):

- binary: precision TP/(TP+FP), recall TP/(TP+FN), F1 2TP/(2TP+FP+FN) of the positive class; 0/0 is
  undefined (``NaN`` here, ``None`` in reports — sklearn's ``zero_division`` would invent 0 or 1);
- multiclass: the same per class, **macro** average over all ``k`` classes, a class's 0/0 counting as 0
  (``precision_recall_fscore_support(labels=classes, average="macro", zero_division=0)``);
- accuracy: correct / n;
- ROC AUC: the rank-sum AUC (:func:`auc`); multiclass one-vs-rest macro over the ``k`` classes, undefined
  when any class's AUC is (a window without rows of a class, as ``roc_auc_score(labels=classes)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Confusion:
    """Confusion counts per class (possibly expected, possibly batched): ``tp``, ``fp``, ``fn`` (..., k),
    ``correct`` (...), over ``n`` rows."""

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    correct: np.ndarray
    n: int

    @classmethod
    def of(cls, truth: np.ndarray, predicted: np.ndarray) -> Confusion:
        """Counts from weights ``truth`` (..., n, k) and predicted classes ``predicted`` (n,). One product
        per count (``tp``), the others from sums: exact for 0/1 labels and bootstrap draws (integers)."""
        k = truth.shape[-1]
        if k == 1:
            hit = (predicted == 1)[:, None].astype(float)
        else:
            hit = (predicted[:, None] == np.arange(k)[None, :]).astype(float)
        tp = np.einsum("...nk,nk->...k", truth, hit)
        fp = hit.sum(0) - tp
        fn = truth.sum(-2) - tp
        if k == 1:
            tn = truth.shape[-2] - tp - fp - fn
            correct = (tp + tn)[..., 0]
        else:
            correct = tp.sum(-1)
        return cls(tp=tp, fp=fp, fn=fn, correct=correct, n=truth.shape[-2])

    def metrics(self) -> dict[str, np.ndarray]:
        """``accuracy``, ``precision``, ``recall``, ``f1`` (binary: of the positive class; else macro)."""
        binary = self.tp.shape[-1] == 1
        with np.errstate(divide="ignore", invalid="ignore"):
            out = {"accuracy": self.correct / self.n if self.n else np.full(self.correct.shape, np.nan)}
            per_class = {
                "precision": self.tp / (self.tp + self.fp),
                "recall": self.tp / (self.tp + self.fn),
                "f1": 2 * self.tp / (2 * self.tp + self.fp + self.fn),
            }
        for name, values in per_class.items():
            out[name] = values[..., 0] if binary else np.nan_to_num(values, nan=0.0).mean(-1)
        return out


def auc(positive: np.ndarray, score: np.ndarray) -> np.ndarray:
    """ROC AUC when row i is positive with weight ``positive[..., i]`` (negative with 1 − weight).

    Rank-sum form (Mann–Whitney): P(score of a positive > score of a negative) + ½ P(equal), over pairs of
    distinct rows. With 0/1 weights it equals ``sklearn.metrics.roc_auc_score``; with calibrated
    probabilities it is its expectation. ``NaN`` when there are no positive or no negative weights. Leading
    axes batch several weight vectors (CBPE's bootstrap draws). O(n log n): one sort of the scores, then
    a dot product per weight vector.

    With r the scores' 0-based mid-ranks (the rows below, ties counting half) and W = Σ w:
    wins = w·r − ½ (W² − Σ w²) (the weights' pairs among themselves taken out) and
    pairs = W Σ(1 − w) − Σ w (1 − w). For 0/1 weights this is Mann–Whitney's U = R₊ − P(P + 1)/2 over
    P·N, every term a multiple of ½ and exact in floating point.
    """
    if score.size == 0:
        return np.full(positive.shape[:-1], np.nan)
    from scipy.stats import rankdata

    rank = rankdata(score) - 1.0
    total = positive.sum(-1)
    wins = positive @ rank - 0.5 * (total * total - (positive * positive).sum(-1))
    pairs = total * (1.0 - positive).sum(-1) - (positive * (1.0 - positive)).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pairs > 1e-12, wins / np.where(pairs > 1e-12, pairs, 1.0), np.nan)


def roc_auc(truth: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Binary: :func:`auc` of the positive column; multiclass: one-vs-rest macro over the ``k`` classes."""
    if truth.shape[-1] == 1:
        return auc(truth[..., 0], scores[:, 0])
    per_class = [auc(truth[..., j], scores[:, j]) for j in range(truth.shape[-1])]
    return np.stack(per_class, axis=-1).mean(-1)  # NaN if any class's AUC is undefined, as sklearn


def point_metrics(
    truth: np.ndarray, predicted: np.ndarray | None, scores: np.ndarray | None
) -> dict[str, np.ndarray]:
    """Every metric the inputs allow: from ``predicted`` accuracy/precision/recall/F1, from ``scores`` ROC
    AUC. Values are arrays of the leading (batch) shape; ``NaN`` where undefined."""
    out: dict[str, np.ndarray] = {}
    if predicted is not None:
        out.update(Confusion.of(truth, predicted).metrics())
    if scores is not None:
        out["roc_auc"] = roc_auc(truth, scores)
    return out


def to_floats(metrics: dict[str, np.ndarray]) -> dict[str, float | None]:
    """Scalars as report values: ``None`` where undefined."""
    return {k: (float(v) if np.isfinite(v) else None) for k, v in metrics.items()}
