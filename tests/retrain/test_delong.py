"""DeLong's test against an independent O(m·n) implementation written from the paper's formulas."""

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from mlwarden.retrain.delong import delong
from mlwarden.retrain.metrics import METRICS
from mlwarden.retrain.outputs import PairedOutputs
from mlwarden.retrain.paired import paired_test


def slow_delong(positive, score_a, score_b):
    """DeLong, DeLong & Clarke-Pearson (1988), section 2: psi(X, Y) = 1 if Y < X, 1/2 if Y = X, else 0;
    V10(X_i) = mean_j psi(X_i, Y_j), V01(Y_j) = mean_i psi(X_i, Y_j); S = S10 / m + S01 / n."""
    aucs, v10, v01 = [], [], []
    for score in (score_a, score_b):
        x, y = score[positive], score[~positive]
        psi = (y[None, :] < x[:, None]) + 0.5 * (y[None, :] == x[:, None])  # m × n
        aucs.append(psi.mean())
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    m, n = len(v10[0]), len(v01[0])
    s10 = np.array(
        [[np.sum((v10[r] - aucs[r]) * (v10[s] - aucs[s])) / (m - 1) for s in (0, 1)] for r in (0, 1)]
    )
    s01 = np.array(
        [[np.sum((v01[r] - aucs[r]) * (v01[s] - aucs[s])) / (n - 1) for s in (0, 1)] for r in (0, 1)]
    )
    covariance = s10 / m + s01 / n
    return np.array(aucs), covariance


def correlated_scores(seed, n=700, decimals=1):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    positive = latent + rng.normal(size=n) > 0.4  # unbalanced classes
    a = np.round(latent + rng.normal(scale=1.0, size=n), decimals)  # rounding makes many ties
    b = np.round(latent + rng.normal(scale=0.7, size=n), decimals)
    return positive, a, b


@pytest.mark.parametrize("seed, decimals", [(0, 1), (1, 0), (2, 3)])
def test_covariance_matches_the_papers_formulas(seed, decimals):
    positive, a, b = correlated_scores(seed, decimals=decimals)
    fast = delong(positive, a, b)
    aucs, covariance = slow_delong(positive, a, b)
    np.testing.assert_allclose(fast.aucs, aucs, rtol=1e-12)
    np.testing.assert_allclose(fast.covariance, covariance, rtol=1e-10)
    np.testing.assert_allclose(
        fast.variance, covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1], rtol=1e-10
    )
    assert fast.aucs == pytest.approx((roc_auc_score(positive, a), roc_auc_score(positive, b)), rel=1e-12)


def test_interval_and_p_value_are_the_normal_test_on_the_slow_variance():
    positive, a, b = correlated_scores(3)
    aucs, covariance = slow_delong(positive, a, b)
    se = np.sqrt(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
    difference = aucs[1] - aucs[0]
    outputs = PairedOutputs(
        truth=positive.astype(int), champion=a, challenger=b, classes=("0", "1"), positive=1
    )
    test = paired_test(METRICS["roc_auc"], outputs, 0.9, np.random.default_rng(0))
    assert test.test == "delong"
    assert test.p_value == pytest.approx(2 * norm.sf(abs(difference) / se), rel=1e-9)
    z = norm.ppf(0.95)
    assert test.ci == pytest.approx((difference - z * se, difference + z * se), rel=1e-9)


def test_identical_scores_have_zero_variance_and_p_value_one():
    positive, a, _ = correlated_scores(4)
    assert delong(positive, a, a).variance == 0.0
    outputs = PairedOutputs(
        truth=positive.astype(int), champion=a, challenger=a.copy(), classes=("0", "1"), positive=1
    )
    test = paired_test(METRICS["roc_auc"], outputs, 0.95, np.random.default_rng(0))
    assert test.ci == (0.0, 0.0) and test.p_value == 1.0


def test_a_single_row_of_a_class_has_no_variance_and_no_class_raises():
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    assert np.isnan(delong(np.array([True, False, False, False]), scores, scores[::-1]).variance)
    with pytest.raises(ValueError, match="positive and negative"):
        delong(np.zeros(4, bool), scores, scores)
