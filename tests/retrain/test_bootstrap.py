"""The paired stratified bootstrap: statistics equal to scikit-learn's, strata kept, intervals that cover."""

import numpy as np
import pytest
from sklearn import metrics as skm

from mlwarden.retrain.bootstrap import DRAWS, percentile_interval, table_draws
from mlwarden.retrain.metrics import METRICS, finish, row_losses, table_metric
from mlwarden.retrain.outputs import PairedOutputs
from mlwarden.retrain.paired import paired_test


def observed_table(truth, predicted, k):
    table = np.zeros((k, k + 1), dtype=np.int64)
    np.add.at(table, (truth, predicted + 1), 1)
    return table


@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
def test_confusion_table_statistics_equal_scikit_learn(name):
    rng = np.random.default_rng(0)
    scorer = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[name]
    truth = rng.integers(0, 2, 500)
    predicted = np.where(rng.random(500) < 0.7, truth, 1 - truth)
    value = table_metric(name, observed_table(truth, predicted, 2), positive=1)
    assert value == pytest.approx(scorer(truth, predicted))
    truth3 = rng.integers(0, 3, 500)
    predicted3 = np.where(rng.random(500) < 0.6, truth3, rng.integers(-1, 3, 500))  # -1: not a class
    expected = scorer(truth3, predicted3, labels=[0, 1, 2], average="macro", zero_division=0)
    assert table_metric(name, observed_table(truth3, predicted3, 3), positive=None) == pytest.approx(expected)


def test_binary_precision_without_predicted_positives_is_undefined():
    truth = np.array([0, 1, 1, 0])
    assert np.isnan(table_metric("precision", observed_table(truth, np.zeros(4, int), 2), positive=1))


@pytest.mark.parametrize("name", ["log_loss", "brier", "mae", "rmse", "mape"])
def test_mean_of_row_losses_equals_scikit_learn(name):
    rng = np.random.default_rng(1)
    if name in ("log_loss", "brier"):
        truth = rng.integers(0, 2, 400)
        predicted = np.clip(0.3 + 0.4 * truth + rng.normal(0, 0.2, 400), 0, 1)  # includes exact 0 and 1
        expected = (
            skm.log_loss(truth, predicted) if name == "log_loss" else skm.brier_score_loss(truth, predicted)
        )
        got = finish(name, row_losses(name, truth, predicted, positive=1).mean())
    else:
        truth = rng.normal(10, 3, 400)
        truth[:3] = 0.0  # MAPE's eps guard
        predicted = truth + rng.normal(0, 1, 400)
        expected = {
            "mae": skm.mean_absolute_error,
            "rmse": skm.root_mean_squared_error,
            "mape": skm.mean_absolute_percentage_error,
        }[name](truth, predicted)
        got = finish(name, row_losses(name, truth, predicted, positive=None).mean())
    assert got == pytest.approx(expected, rel=1e-12)


def test_resampled_tables_keep_each_class_count():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 3, 900)
    a, b = rng.integers(-1, 3, 900), rng.integers(0, 3, 900)
    table_a, table_b = table_draws(truth, a, b, 3, 500, np.random.default_rng(3))
    counts = np.bincount(truth, minlength=3)
    assert (table_a.sum(-1) == counts).all() and (table_b.sum(-1) == counts).all()
    np.testing.assert_allclose(table_a.mean(0), observed_table(truth, a, 3), rtol=0.1)


def test_percentile_p_value():
    assert percentile_interval(np.zeros(DRAWS), 0.95) == ((0.0, 0.0), 1.0)
    interval, p = percentile_interval(np.linspace(0.01, 0.02, 999), 0.9)
    assert p == pytest.approx(2 / 1000) and interval == pytest.approx((0.0105, 0.0195), rel=1e-3)
    assert percentile_interval(np.r_[np.full(600, np.nan), np.ones(400)], 0.95) is None


def test_mae_interval_covers_the_true_difference():
    """Paired regression errors e_a ~ N(0, 1), e_b ~ N(0, 1.2²), correlated: the true MAE difference is
    0.2·sqrt(2/π); 200 seeded samples of 400 rows."""
    rng = np.random.default_rng(11)
    true_difference = 0.2 * np.sqrt(2 / np.pi)
    covered, trials = 0, 200
    for trial in range(trials):
        y = rng.normal(50, 10, 400)
        e_a = rng.normal(size=400)
        e_b = 1.2 * (0.6 * e_a + 0.8 * rng.normal(size=400))
        outputs = PairedOutputs(truth=y, champion=y + e_a, challenger=y + e_b)
        test = paired_test(METRICS["mae"], outputs, 0.95, np.random.default_rng(trial))
        covered += test.ci[0] <= true_difference <= test.ci[1]
    assert 0.90 <= covered / trials <= 0.99


def test_f1_interval_covers_the_population_difference():
    """A finite population of 200 000 rows whose F1 difference is known exactly; 200 seeded stratified
    samples of 1000 rows."""
    rng = np.random.default_rng(12)
    size = 200_000
    truth = (rng.random(size) < 0.3).astype(int)
    a = np.where(rng.random(size) < 0.80, truth, 1 - truth)
    b = np.where(rng.random(size) < 0.84, truth, 1 - truth)
    true_difference = skm.f1_score(truth, b) - skm.f1_score(truth, a)
    covered, trials = 0, 200
    for trial in range(trials):
        rows = rng.choice(size, 1000, replace=False)
        outputs = PairedOutputs(truth[rows], a[rows], b[rows], classes=("0", "1"), positive=1)
        test = paired_test(METRICS["f1"], outputs, 0.95, np.random.default_rng(trial))
        covered += test.ci[0] <= true_difference <= test.ci[1]
    assert 0.90 <= covered / trials <= 0.99
