"""CBPE and DLE track realized performance under covariate shift, and are honest about what they assume."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from mlwarden.errors import InputError
from mlwarden.performance import CBPE, DLE
from mlwarden.performance.metrics import auc


def binary_world(n, shift, rng, model=None):
    x = rng.normal(shift, 1.0, size=(n, 2))
    p = 1 / (1 + np.exp(-(1.5 * x[:, 0] - 1.0 * x[:, 1])))
    y = (rng.random(n) < p).astype(int)
    model = model or LogisticRegression().fit(x, y)
    return x, y, model.predict_proba(x)[:, 1], model


def test_weighted_auc_equals_sklearn_on_hard_labels_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.random(500), 1)  # many ties
    assert auc(y.astype(float), s) == pytest.approx(roc_auc_score(y, s))


def test_estimates_track_realized_under_covariate_shift():
    rng = np.random.default_rng(1)
    _, y_ref, s_ref, model = binary_world(20_000, 0.0, rng)
    cbpe = CBPE().fit(y_ref, s_ref)
    errors = []
    for shift in (0.0, 0.5, 1.0, -1.0):
        _, y, s, _ = binary_world(5_000, shift, rng, model)
        est = cbpe.estimate(s)
        pred = (s >= 0.5).astype(int)
        realized = {
            "accuracy": accuracy_score(y, pred),
            "roc_auc": roc_auc_score(y, s),
            "f1": f1_score(y, pred),
        }
        for name, value in realized.items():
            errors.append(abs(est[name] - value))
            assert est[f"{name}_lower"] - 0.01 <= value <= est[f"{name}_upper"] + 0.01
    assert np.mean(errors) < 0.02


def test_multiclass_estimates_match_realized_on_reference_like_data():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(12_000, 3))
    y = np.array(["a", "b", "c"])[np.argmax(x + rng.normal(0, 0.8, x.shape), axis=1)]
    model = LogisticRegression().fit(x[:6000], y[:6000])
    cbpe = CBPE(classes=list(model.classes_)).fit(y[:6000], model.predict_proba(x[:6000]))
    est = cbpe.estimate(model.predict_proba(x[6000:]))
    assert est["accuracy"] == pytest.approx(accuracy_score(y[6000:], model.predict(x[6000:])), abs=0.02)


def test_concept_shift_is_invisible_to_cbpe():
    rng = np.random.default_rng(3)
    _, y_ref, s_ref, model = binary_world(10_000, 0.0, rng)
    cbpe = CBPE().fit(y_ref, s_ref)
    _, y, s, _ = binary_world(5_000, 0.0, rng, model)
    flipped = 1 - y  # the world now means the opposite
    assert cbpe.estimate(s)["accuracy"] - accuracy_score(flipped, s >= 0.5) > 0.3


def test_cbpe_input_errors():
    with pytest.raises(InputError, match="at least 50"):
        CBPE().fit(np.array([0, 1]), np.array([0.2, 0.8]))
    with pytest.raises(InputError, match="not fitted"):
        CBPE().estimate(np.array([0.5]))
    assert (
        CBPE().fit(np.r_[np.zeros(60), np.ones(60)], np.linspace(0, 1, 120)).estimate(np.array([]))["n"] == 0
    )


def test_dle_tracks_regression_error_under_covariate_shift():
    rng = np.random.default_rng(4)

    def world(n, shift):
        x = rng.normal(shift, 1, size=(n, 2))
        noise = 0.2 + 0.8 * np.abs(x[:, 0])  # heteroscedastic: error grows away from 0
        return pd.DataFrame(x, columns=["a", "b"]), x[:, 0] + x[:, 1] + rng.normal(0, 1, n) * noise

    x_ref, y_ref = world(20_000, 0)
    model = LinearRegression().fit(x_ref, y_ref)
    dle = DLE().fit(x_ref, y_ref, model.predict(x_ref))
    for shift in (0.0, 1.5):
        x, y = world(5_000, shift)
        pred = model.predict(x)
        est = dle.estimate(x, pred)
        assert est["mae"] == pytest.approx(np.mean(np.abs(pred - y)), rel=0.08)
        assert est["rmse"] == pytest.approx(np.sqrt(np.mean((pred - y) ** 2)), rel=0.1)
