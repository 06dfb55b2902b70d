"""Ownership hygiene decisions: owner, receivers, traffic, volume band, labels and evaluation delays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from mlwarden.alerts.hygiene import ModelHealth, problems, volume_band
from mlwarden.schema.alerting import Hygiene

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def health(**changes) -> ModelHealth:
    base = dict(
        model="churn",
        team="growth",
        owner_name="Ada",
        owner_email="ada@example.com",
        created_at=NOW - timedelta(days=30),
        last_batch=NOW - timedelta(minutes=5),
        last_label=NOW - timedelta(hours=3),
        last_evaluation=NOW - timedelta(minutes=10),
    )
    return ModelHealth(**{**base, **changes})


def checks(h: ModelHealth, limits: Hygiene = Hygiene()) -> list[str]:
    return [f.check for f in problems(h, limits, NOW)]


def test_a_healthy_model_has_no_problems() -> None:
    assert checks(health(window_rows=[1000] * 30, receivers={"owner": True})) == []


def test_volume_band_is_median_plus_minus_k_scaled_mads() -> None:
    history = [90, 100, 110, 100, 95, 105, 100, 1000]  # one outlier: the median and MAD ignore it
    low, high = volume_band(history, k=3)
    assert np.median(history) == 100
    mad = 5.0  # |x - 100|: 10, 0, 10, 0, 5, 5, 0, 900 -> median 5
    assert (low, high) == pytest.approx((100 - 3 * 1.4826 * mad, 100 + 3 * 1.4826 * mad))
    assert volume_band([500] * 10, min_relative=0.1) == (450, 550)  # a regular history: at least ±10%
    with pytest.raises(ValueError, match="empty"):
        volume_band([])


def test_unusual_volume_is_judged_against_the_model_history() -> None:
    rng = np.random.default_rng(7)
    usual = rng.normal(10_000, 300, size=24).round().astype(int).tolist()
    assert checks(health(window_rows=[*usual, 10_400])) == []
    found = problems(health(window_rows=[*usual, 2_000]), Hygiene(), NOW)
    assert [f.check for f in found] == ["traffic.volume"]
    assert found[0].value == 2_000 and found[0].threshold == pytest.approx(found[0].evidence["low"])
    assert checks(health(window_rows=[*usual, 40_000])) == ["traffic.volume"]
    assert checks(health(window_rows=[100, 5])) == []  # too little history to learn a band from


def test_missing_owner_and_failing_receivers_are_critical() -> None:
    found = problems(health(owner_name=None, owner_email=None, receivers={"slack": False}), Hygiene(), NOW)
    assert [(f.check, f.severity.value) for f in found] == [
        ("ownership.no_owner", "critical"),
        ("ownership.receiver_failing", "critical"),
    ]
    assert found[1].column == "slack"
    assert not health(receivers={"slack": False}).owner_reachable
    assert health(receivers={"slack": False, "owner": True}).owner_reachable


def test_no_traffic_labels_overdue_and_stale_evaluation_use_the_limits() -> None:
    found = problems(
        health(
            last_batch=NOW - timedelta(hours=7),
            last_label=NOW - timedelta(days=3),
            oldest_unevaluated_close=NOW - timedelta(hours=2),
        ),
        Hygiene(),
        NOW,
    )
    by_check = {f.check: f for f in found}
    assert set(by_check) == {"traffic.none", "labels.overdue", "evaluation.stale"}
    assert by_check["traffic.none"].value == pytest.approx(7.0)
    assert by_check["traffic.none"].threshold == 6.0
    assert by_check["labels.overdue"].value == pytest.approx(72.0)
    assert by_check["evaluation.stale"].severity.value == "critical"
    assert found[0].check == "evaluation.stale"  # most urgent first
    off = Hygiene(no_traffic=None, labels_overdue=None, evaluation_stale=None)
    assert checks(health(last_batch=None, last_label=NOW - timedelta(days=9)), off) == []


def test_a_model_that_never_had_traffic_counts_from_its_creation() -> None:
    assert checks(health(last_batch=None, created_at=NOW - timedelta(hours=1))) == []
    assert checks(health(last_batch=None, created_at=NOW - timedelta(hours=8))) == ["traffic.none"]
    assert checks(health(last_label=None)) == []  # never labelled: not late
