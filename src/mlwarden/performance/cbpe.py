"""Confidence-based performance estimation (CBPE): classifier performance without labels.

Fit on a labelled reference: calibrate the model's scores (isotonic regression, one-vs-rest per class for
multiclass) so that a calibrated score p is the probability that the label is positive. Isotonic regression
is kept only when it beats the raw scores out of fold (5-fold Brier score): on scores that are already
calibrated it overfits the reference, its steps make probabilities too extreme and expected accuracy biased.
On unlabelled data, each row then contributes its *expected* share of the confusion matrix — a predicted
positive is a true positive with probability p — which gives expected accuracy, precision, recall, F1 and
ROC AUC — with the very definitions of the realized metrics (:mod:`mlwarden.performance.metrics`).

The 95 % band is the spread the realized metric would show if labels were drawn from the calibrated
probabilities (a vectorised parametric bootstrap on at most 20,000 rows, its spread rescaled to the window's
size): it is the sampling uncertainty of the window, not the calibration error.

Assumption (say it aloud): the relation between score and outcome is the reference's — covariate shift is
fine, **concept shift is invisible to CBPE**. Compare with realized performance when labels arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from mlwarden.errors import InputError
from mlwarden.performance.metrics import point_metrics, to_floats

BOOTSTRAP_ROWS = 20_000
BOOTSTRAP_DRAWS = 200
MIN_DEFINED_DRAWS = 0.5  # share of the draws in which a metric must be defined for it to get a band


@dataclass
class CBPE:
    """Estimate classification metrics from scores alone, after calibrating on a labelled reference.

    >>> cbpe = CBPE(positive=1).fit(y_ref, scores_ref)   # binary: scores are P(positive)
    >>> cbpe.estimate(scores_current)["roc_auc"]

    Binary: one score column, P(``positive``); ``positive`` defaults to ``True`` for booleans, else the
    larger label. Multiclass: an (n, k) score matrix and the class labels in column order (``classes``).
    Metric definitions are the realized ones (:mod:`mlwarden.performance.metrics`), applied to expected
    confusion counts. Raises :class:`InputError` with fewer than 50 usable reference rows or a binary
    reference holding one class only.
    """

    threshold: float = 0.5
    classes: list | None = None
    positive: object = None
    seed: int = 0
    calibrators: list[IsotonicRegression | RawScores] = field(default_factory=list, init=False, repr=False)
    reference_: dict[str, float | None] = field(default_factory=dict, init=False)

    def fit(self, y_true: np.ndarray, scores: np.ndarray, y_pred: np.ndarray | None = None) -> CBPE:
        """Calibrate on the reference; also records its realized metrics in ``reference_``."""
        y_true, scores = np.asarray(y_true), _as_matrix(scores)
        if y_true.size != scores.shape[0]:
            raise InputError(f"y_true has {y_true.size} rows but scores have {scores.shape[0]}")
        labelled = ~_isnan(y_true) & np.isfinite(scores).all(axis=1)
        y_true, scores = y_true[labelled], scores[labelled]
        if y_true.size < 50:
            raise InputError(f"CBPE needs at least 50 labelled reference rows with scores, got {y_true.size}")
        truth = self._indicators(y_true, scores.shape[1])
        self.calibrators = [calibrator(scores[:, j], truth[:, j], self.seed) for j in range(truth.shape[1])]
        pred = None if y_pred is None else np.asarray(y_pred)[labelled]
        self.reference_ = to_floats(point_metrics(truth, self._predicted(scores, pred), scores))
        return self

    def calibrated(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, one column per class (binary: one column, P(positive))."""
        if not self.calibrators:
            raise InputError("CBPE is not fitted: call fit() on a labelled reference first")
        scores = _as_matrix(scores)
        if scores.shape[1] != len(self.calibrators):
            raise InputError(f"expected {len(self.calibrators)} score column(s), got {scores.shape[1]}")
        p = np.column_stack([c.predict(scores[:, j]) for j, c in enumerate(self.calibrators)])
        if p.shape[1] > 1:  # one-vs-rest calibrations need not sum to one
            p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
        return p

    def estimate(self, scores: np.ndarray, y_pred: np.ndarray | None = None) -> dict[str, float | None]:
        """Expected metrics of an unlabelled window, with ``<metric>_lower``/``<metric>_upper`` (95 %).

        Rows with a non-finite score (or a missing ``y_pred``) are left out: ``n`` counts the rows given,
        ``n_scored`` the rows estimated."""
        scores = _as_matrix(scores)
        ok = np.isfinite(scores).all(axis=1)
        if y_pred is not None:
            y_pred = np.asarray(y_pred)
            ok &= pd.notna(y_pred)
        scores = scores[ok]
        pred = self._predicted(scores, None if y_pred is None else y_pred[ok])
        n = scores.shape[0]
        if n == 0:
            return {"n": float(ok.size), "n_scored": 0.0}
        p = self.calibrated(scores)
        out: dict[str, float | None] = {"n": float(ok.size), "n_scored": float(n)}
        out.update(to_floats(point_metrics(p, pred, scores)))
        rng = np.random.default_rng(self.seed)
        take = rng.choice(n, BOOTSTRAP_ROWS, replace=False) if n > BOOTSTRAP_ROWS else np.arange(n)
        draws = _bootstrap(p[take], pred[take], scores[take], rng)
        shrink = np.sqrt(take.size / n)  # the spread of a mean over n rows, from one over take.size rows
        for name, values in draws.items():
            centre = out.get(name)
            # a metric undefined under most plausible labelings (recall of a window that likely holds no
            # positive) has no band: a few defined draws say nothing about its spread
            if centre is None or np.isfinite(values).mean() < MIN_DEFINED_DRAWS:
                continue
            lo, hi = np.nanpercentile(values, [2.5, 97.5])
            mid = np.nanmean(values)  # a skewed tail can put the mean beyond a percentile: clip at 0
            out[f"{name}_lower"] = max(0.0, centre - max(mid - lo, 0.0) * shrink)
            out[f"{name}_upper"] = min(1.0, centre + max(hi - mid, 0.0) * shrink)
        return out

    def _indicators(self, y_true: np.ndarray, k: int) -> np.ndarray:
        if k == 1:
            positive = self.positive
            if positive is None:
                positive = True if y_true.dtype == bool else max(np.unique(y_true).tolist())
            self.classes = [positive]
            truth = (y_true == positive).astype(float)[:, None]
            if truth.min() == truth.max():
                raise InputError(f"CBPE needs both classes in the reference; every label is {y_true[0]!r}")
            return truth
        if self.classes is None or len(self.classes) != k:
            raise InputError(f"multiclass CBPE needs `classes`: the {k} class labels in score-column order")
        unknown = set(np.unique(y_true).tolist()) - set(self.classes)
        if unknown:
            raise InputError(f"labels {sorted(map(str, unknown))} are not among classes {self.classes}")
        return (y_true[:, None] == np.asarray(self.classes)[None, :]).astype(float)

    def _predicted(self, scores: np.ndarray, y_pred: np.ndarray | None) -> np.ndarray:
        """Predicted class index per row (binary: 1 = positive)."""
        if scores.shape[1] == 1:
            if y_pred is not None:
                return (y_pred == self.classes[0]).astype(int)
            return (scores[:, 0] >= self.threshold).astype(int)
        if y_pred is not None:
            return pd.Index(self.classes).get_indexer(y_pred)  # -1 for a label outside the classes
        return scores.argmax(axis=1)


@dataclass(frozen=True)
class RawScores:
    """The identity calibration: scores already are probabilities (clipped to [0, 1])."""

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return np.clip(scores, 0.0, 1.0)


def calibrator(score: np.ndarray, truth: np.ndarray, seed: int = 0) -> IsotonicRegression | RawScores:
    """Isotonic regression, unless the raw scores are probabilities at least as good out of fold."""
    from sklearn.model_selection import KFold

    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    if score.min() < 0 or score.max() > 1:
        return isotonic.fit(score, truth)  # not probabilities: calibration is required
    out_of_fold = np.empty_like(truth)
    for train, test in KFold(5, shuffle=True, random_state=seed).split(score):
        fold = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score[train], truth[train])
        out_of_fold[test] = fold.predict(score[test])
    if np.mean((out_of_fold - truth) ** 2) < np.mean((score - truth) ** 2):
        return isotonic.fit(score, truth)
    return RawScores()


def _as_matrix(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    return scores[:, None] if scores.ndim == 1 else scores


def _isnan(values: np.ndarray) -> np.ndarray:
    return np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape, dtype=bool)


def _bootstrap(p: np.ndarray, pred: np.ndarray, scores: np.ndarray, rng: np.random.Generator) -> dict:
    """Metrics under labels drawn from the calibrated probabilities, BOOTSTRAP_DRAWS times at once."""
    draws = BOOTSTRAP_DRAWS if p.shape[0] * p.shape[1] * BOOTSTRAP_DRAWS <= 8_000_000 else 40
    u = rng.random((draws, p.shape[0]))
    if p.shape[1] == 1:
        labels = (u < p[None, :, 0]).astype(float)[..., None]
    else:
        cls = (u[..., None] > np.cumsum(p, axis=1)[None, :, :]).sum(-1)
        labels = (cls[..., None] == np.arange(p.shape[1])).astype(float)
    return point_metrics(labels, pred, scores)
