import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from mlwarden.errors import InputError
from mlwarden.performance import classification_metrics, realized_performance, regression_metrics


def test_classification_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2_000)
    score = np.clip(y * 0.3 + rng.random(2_000) * 0.7, 0, 1)
    pred = (score > 0.5).astype(int)
    m = classification_metrics(y, pred, score)
    assert m["accuracy"] == pytest.approx(metrics.accuracy_score(y, pred))
    assert m["precision"] == pytest.approx(metrics.precision_score(y, pred))
    assert m["recall"] == pytest.approx(metrics.recall_score(y, pred))
    assert m["f1"] == pytest.approx(metrics.f1_score(y, pred))
    assert m["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, score))
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        assert m[f"{name}_lower"] < m[name] < m[f"{name}_upper"]


def test_intervals_cover_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(300):
        y = np.ones(200, dtype=int)
        pred = (rng.random(200) < 0.8).astype(int)  # true accuracy 0.8
        m = classification_metrics(y, pred, None)
        hits += m["accuracy_lower"] <= 0.8 <= m["accuracy_upper"]
    assert 0.91 <= hits / 300 <= 0.99


def test_single_class_window_has_no_auc():
    m = classification_metrics(np.ones(50), np.ones(50), np.linspace(0, 1, 50))
    assert m["roc_auc"] is None and m["accuracy"] == 1.0


def test_regression_metrics():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.5, 2.0, 2.0, 5.0])
    m = regression_metrics(y, p)
    assert m["mae"] == pytest.approx(0.625) and m["rmse"] == pytest.approx(np.sqrt(0.5625))
    assert m["mape"] == pytest.approx(np.mean([0.5, 0, 1 / 3, 0.25]))
    assert regression_metrics(np.zeros(3), np.ones(3))["mape"] is None


def test_realized_performance_skips_unlabelled_rows_and_checks_columns():
    df = pd.DataFrame({"y": [1, 0, None, 1], "p": [1, 0, 1, 0], "s": [0.9, 0.2, 0.7, 0.4]})
    m = realized_performance(df, target="y", prediction="p", scores=["s"])
    assert m["n"] == 3 and m["accuracy"] == pytest.approx(2 / 3)
    with pytest.raises(InputError, match="no column 'q'"):
        realized_performance(df, target="y", prediction="q")


def test_multiclass_metrics_are_sklearns_over_the_models_classes():
    rng = np.random.default_rng(2)
    classes = ["b", "a", "c", "d"]  # the model's order; "d" never occurs in this window
    y = np.array(classes[:3], dtype=object)[rng.integers(0, 3, 400)]
    pred = np.where(rng.random(400) < 0.7, y, "d")
    scores = rng.dirichlet(np.ones(4), 400)
    m = classification_metrics(y, pred, scores, classes=classes)
    p, r, f, _ = metrics.precision_recall_fscore_support(
        y, pred, labels=classes, average="macro", zero_division=0
    )
    assert m["accuracy"] == pytest.approx(metrics.accuracy_score(y, pred))
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((p, r, f))
    assert m["roc_auc"] is None  # class "d" has no row: sklearn's macro AUC is NaN too
    present = classes[:3]
    sub = scores[:, :3] / scores[:, :3].sum(axis=1, keepdims=True)
    m3 = classification_metrics(y, None, sub, classes=present)
    order = np.argsort(present)
    expected = metrics.roc_auc_score(y, sub[:, order], multi_class="ovr", labels=sorted(present))
    assert m3["roc_auc"] == pytest.approx(expected)
