"""Retrain triggers and the retrain: section: each trigger fires or not with the right numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from mlwarden.errors import InputError
from mlwarden.retrain.triggers import (
    WindowStats,
    cooldown,
    importance_weights,
    important_drift,
    minimum_data,
    new_labels,
    plan,
    schedule,
    slo_breach,
)
from mlwarden.schema.config import ModelConfig
from mlwarden.schema.retraining import RetrainSection, Triggers

T0 = datetime(2026, 11, 30, 0, tzinfo=UTC)


def window(k: int, **values) -> WindowStats:
    return WindowStats(start=T0 + timedelta(hours=k), end=T0 + timedelta(hours=k + 1), **values)


def test_the_design_example_validates_and_errors_name_the_path() -> None:
    section = RetrainSection.from_dict(
        {
            "triggers": {
                "slo_breach_windows": 2,
                "important_drift": 0.3,
                "min_new_labels": 5000,
                "schedule": "0 3 * * 1",
                "cooldown": "7d",
            },
            "gate": {"metric": "roc_auc", "slices": ["country"], "max_slice_regression": 0.02},
            "notify": {"webhook": {"url": "https://ci.example.com/hooks/retrain", "secret": "${CI_SECRET}"}},
        }
    )
    assert section.triggers.cooldown == timedelta(days=7) and section.gate.slices == ["country"]
    assert section.gate.arguments()["min_slice_rows"] == 200 and section.outcome_windows == 3
    bad = {
        "retrain.triggers.schedule: expected a cron expression of 5 fields": {
            "triggers": {"schedule": "0 3 * *"}
        },
        "retrain.triggers.cooldown: expected a duration": {"triggers": {"cooldown": "soon"}},
        "retrain.triggers.important_drift: Input should be less than or equal to 1": {
            "triggers": {"important_drift": 3}
        },
        "retrain.gate.metric: expected one of roc_auc": {"gate": {"metric": "auc"}},
        "retrain.notify.webhook.url: not a URL": {"notify": {"webhook": {"url": "ci", "secret": "s"}}},
        "retrain.triggers.every: unknown field": {"triggers": {"every": "1d"}},
    }
    for message, data in bad.items():
        with pytest.raises(InputError, match=message.replace(".", r"\.")):
            RetrainSection.from_dict(data)
    with pytest.raises(InputError, match=r"^retrain\.gate\.confidence: "):
        ModelConfig.from_dict({"retrain": {"gate": {"confidence": 1.5}}})
    assert ModelConfig.from_dict({"retrain": {"triggers": {"schedule": "*/15 * * * *"}}}).retrain is not None


def test_slo_breach_needs_n_consecutive_windows_realized_over_estimated() -> None:
    slo = {"roc_auc": 0.78, "mae": 3.0}
    good = window(0, estimated={"roc_auc": 0.80})
    bad_estimate = window(1, estimated={"roc_auc": 0.70})
    realized_ok = window(2, estimated={"roc_auc": 0.70}, realized={"roc_auc": 0.79})
    bad_realized = window(3, estimated={"roc_auc": 0.90}, realized={"roc_auc": 0.75})
    error_up = window(4, realized={"mae": 3.5})

    fired = slo_breach([good, bad_estimate, bad_realized, error_up], slo, 2)
    assert fired.fires and fired.evidence["consecutive"] == 2
    assert "realized mae 3.5 > 3" in fired.reason and fired.key == f"slo_breach@{error_up.start.isoformat()}"
    held = slo_breach([bad_estimate, realized_ok, bad_realized], slo, 2)
    assert not held.fires and "last 1 of 2" in held.reason  # realized 0.79 beats the estimate's 0.70
    assert not slo_breach([bad_realized], slo, 2).fires  # one window of two needed
    assert slo_breach([bad_estimate], slo, None).reason.startswith("not configured")
    assert "no SLO" in slo_breach([bad_estimate], {}, 1).reason


def test_important_drift_weighs_drifted_features_by_importance() -> None:
    weights = importance_weights(["a", "b", "c"], importances={"a": 6, "b": 3, "c": 1})
    assert weights == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1})
    latest = window(0, drifted=("b", "c"))
    result = important_drift(latest, weights, 0.3)
    assert result.fires and result.evidence["weighted_share"] == pytest.approx(0.4)
    assert "b (0.30), c (0.10)" in result.reason
    assert not important_drift(window(0, drifted=("c",)), weights, 0.3).fires
    unweighted = importance_weights(["a", "b", "c", "d"])
    assert important_drift(window(0, drifted=("a",)), unweighted, 0.3).evidence["weighted_share"] == 0.25


def test_importances_from_the_model_or_by_permutation() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(600, 3)), columns=["a", "b", "c"])
    frame["y"] = (3 * frame["a"] + frame["b"] + rng.normal(scale=0.5, size=600) > 0).astype(int)
    linear = LogisticRegression().fit(frame[["a", "b", "c"]], frame["y"])
    coef = np.abs(linear.coef_[0])
    assert importance_weights(["a", "b", "c"], estimator=linear) == pytest.approx(
        dict(zip("abc", coef / coef.sum(), strict=True))
    )
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(frame[["a", "b", "c"]], frame["y"])
    trees = importance_weights(["a", "b", "c"], estimator=forest)
    assert trees == pytest.approx(dict(zip("abc", forest.feature_importances_, strict=True)))
    permuted = importance_weights(["a", "b", "c"], estimator=forest, reference=frame, target="y", seed=0)
    assert sum(permuted.values()) == pytest.approx(1.0)
    assert permuted["a"] > permuted["b"] > permuted["c"] >= 0
    with pytest.raises(InputError, match="no feature has an importance above 0"):
        importance_weights(["a"], importances={"b": 1})


def test_labels_schedule_cooldown_and_minimum_data() -> None:
    assert new_labels(5_000, 5_000, None).fires and not new_labels(4_999, 5_000, None).fires
    monday = datetime(2026, 11, 30, 3, 30, tzinfo=UTC)  # a Monday, after 03:00
    due = schedule("0 3 * * 1", monday, last_retrain=monday - timedelta(days=2))
    assert due.fires and due.evidence["previous"] == "2026-11-30T03:00:00+00:00"
    assert due.key == "schedule@2026-11-30T03:00:00+00:00"
    done = schedule("0 3 * * 1", monday, last_retrain=monday - timedelta(minutes=10))
    assert not done.fires and done.evidence["next"] == "2026-12-07T03:00:00+00:00"
    config = Triggers(cooldown="7d", min_rows=1_000)
    assert cooldown(monday, monday - timedelta(days=2), config).fires
    assert not cooldown(monday, monday - timedelta(days=8), config).fires
    assert minimum_data(999, config).fires and not minimum_data(1_000, config).fires


def test_a_plan_is_due_when_a_trigger_fires_and_no_guard_holds_it() -> None:
    config = Triggers(slo_breach_windows=1, min_new_labels=100, cooldown="1d", min_rows=50)
    windows = [window(0, realized={"roc_auc": 0.7})]
    now = T0 + timedelta(hours=2)
    result = plan(
        config, windows, slo={"roc_auc": 0.78}, weights={}, labelled_since=120, last_retrain=None, now=now
    )
    assert result.due and [t.name for t in result.fired] == ["slo_breach", "new_labels"]
    held = plan(
        config,
        windows,
        slo={"roc_auc": 0.78},
        weights={},
        labelled_since=120,
        last_retrain=now - timedelta(hours=3),
        now=now,
    )
    assert not held.due and held.to_dict()["guards"][0]["fires"]  # the cooldown holds it back
