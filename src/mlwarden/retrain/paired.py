"""One paired comparison of two models on the same rows: its interval, p-value and test, and the metric
values — DeLong for ROC AUC, McNemar for accuracy, the paired stratified bootstrap otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from mlwarden.retrain.bootstrap import DRAWS, mean_draws, percentile_interval, table_draws
from mlwarden.retrain.delong import delong
from mlwarden.retrain.mcnemar import mcnemar
from mlwarden.retrain.metrics import TABLE_METRICS, Metric, finish, metric_value, row_losses, table_metric
from mlwarden.retrain.outputs import PairedOutputs


@dataclass(frozen=True)
class PairedTest:
    """A paired test's interval of challenger − champion, its two-sided p-value and the test's name."""

    ci: tuple[float, float] | None
    p_value: float | None
    test: str


def paired_test(
    spec: Metric, outputs: PairedOutputs, confidence: float, rng: np.random.Generator
) -> PairedTest:
    """The interval (two-sided, level ``confidence``) of challenger − champion and the p-value of "no
    difference", by ``spec``'s paired test. ``ci``/``p_value`` are ``None`` when the test is impossible (a
    class with fewer than two rows for DeLong, the metric undefined on most bootstrap resamples)."""
    a, b = outputs.champion, outputs.challenger
    assert a is not None
    if spec.test == "delong":
        if not testable(spec, outputs):
            return PairedTest(None, None, "delong")
        result = delong(outputs.truth == outputs.positive, a, b)
        difference = result.aucs[1] - result.aucs[0]
        return PairedTest(*_normal_test(difference, result.variance, confidence), "delong")
    if spec.test == "mcnemar":
        result = mcnemar(outputs.truth == a, outputs.truth == b)
        return PairedTest(
            result.interval(confidence), result.p_value, "mcnemar_exact" if result.exact else "mcnemar"
        )
    differences = _bootstrap_differences(spec, outputs, rng)
    summary = percentile_interval(differences, confidence)
    return PairedTest(*(summary or (None, None)), "bootstrap")


def _normal_test(
    difference: float, variance: float, confidence: float
) -> tuple[tuple[float, float] | None, float | None]:
    if not np.isfinite(variance):
        return None, None
    se = float(np.sqrt(variance))
    if se == 0.0:  # identical rankings, or both perfect: no uncertainty about a difference of exactly 0
        return (difference, difference), 1.0 if difference == 0 else 0.0
    z = float(norm.ppf(0.5 + confidence / 2))
    return (difference - z * se, difference + z * se), float(2 * norm.sf(abs(difference) / se))


def _bootstrap_differences(spec: Metric, outputs: PairedOutputs, rng: np.random.Generator) -> np.ndarray:
    """``DRAWS`` resampled values of challenger − champion (``NaN`` where a resample leaves it undefined)."""
    a, b, truth = outputs.champion, outputs.challenger, outputs.truth
    assert a is not None
    if spec.name in TABLE_METRICS:
        table_a, table_b = table_draws(truth, a, b, outputs.k, DRAWS, rng)
        with np.errstate(divide="ignore", invalid="ignore"):
            return table_metric(spec.name, table_b, outputs.positive) - table_metric(
                spec.name, table_a, outputs.positive
            )
    loss_a = row_losses(spec.name, truth, a, outputs.positive)
    loss_b = row_losses(spec.name, truth, b, outputs.positive)
    if spec.task == "classification":
        strata = [rows for rows in (np.flatnonzero(truth == c) for c in range(outputs.k)) if rows.size]
    else:
        strata = [np.arange(truth.size)]
    if spec.name == "rmse":  # not a mean of per-row differences: resample both means
        means = finish(spec.name, mean_draws([loss_a, loss_b], strata, DRAWS, rng))
        return means[:, 1] - means[:, 0]
    return mean_draws([loss_b - loss_a], strata, DRAWS, rng)[:, 0]


def testable(spec: Metric, outputs: PairedOutputs) -> bool:
    """Whether the paired test has what it needs: DeLong's variance needs two rows of each class."""
    if spec.test != "delong":
        return True
    positives = int(np.count_nonzero(outputs.truth == outputs.positive))
    return min(positives, len(outputs.truth) - positives) >= 2


def metric_values(spec: Metric, outputs: PairedOutputs) -> tuple[float | None, float | None]:
    """Champion's and challenger's metric (scikit-learn's value); ``None`` where undefined or absent."""

    def value(predicted: np.ndarray | None) -> float | None:
        if predicted is None:
            return None
        v = metric_value(spec.name, outputs.truth, predicted, outputs.k, outputs.positive)
        return v if np.isfinite(v) else None

    return value(outputs.champion), value(outputs.challenger)
