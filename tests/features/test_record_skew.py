"""Record-level skew: the same keys' features offline vs online."""

import json

import numpy as np
import pandas as pd
import pytest

from mlwarden.errors import InputError
from mlwarden.features import record_skew
from mlwarden.findings import Severity


@pytest.fixture
def offline():
    rng = np.random.default_rng(0)
    n = 10_000
    return pd.DataFrame(
        {
            "user": np.arange(n),
            "spend": rng.lognormal(3, 1, n),
            "visits": rng.integers(0, 50, n),
            "segment": rng.choice(["a", "b", "c"], n),
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
        }
    )


def test_identical_features_match_even_with_missing_values(offline):
    online = offline.sample(frac=1, random_state=1)  # other row order, same values, NaN where offline has NaN
    result = record_skew(offline, online, key="user")
    assert result.matched == 10_000 and result.offline_only == result.online_only == 0
    assert all(f.mismatches == 0 for f in result.features)
    assert result.findings() == []


def test_mismatching_features_are_named_with_examples(offline):
    online = offline.copy()
    online.loc[:49, "spend"] = online.loc[:49, "spend"].round(1)  # 0.5 %: a warning
    online.loc[:299, "segment"] = "zz"  # 3 %: critical
    online.loc[5, "score"] = np.nan if not np.isnan(offline.loc[5, "score"]) else 0.5
    online["visits"] = online["visits"] * (1 + 1e-9)  # within rtol: equal
    result = record_skew(offline, online, key="user", examples=3)
    spend, segment = result["spend"], result["segment"]
    assert spend.mismatches == 50 - int(
        (offline.loc[:49, "spend"].round(1) == offline.loc[:49, "spend"]).sum()
    )
    assert 0 < spend.max_abs_diff <= 0.05 + 1e-12 and spend.mean_abs_diff < spend.max_abs_diff
    assert segment.mismatches == 300 - int((offline.loc[:299, "segment"] == "zz").sum())
    assert result["visits"].mismatches == 0 and result["score"].mismatches == 1
    assert segment.examples[0] == {"user": 0, "offline": offline.loc[0, "segment"], "online": "zz"}
    findings = {f.column: f for f in result.findings()}
    assert findings["segment"].severity is Severity.CRITICAL and findings["segment"].check == "skew.record"
    assert findings["spend"].severity is Severity.WARNING and "spend" in findings["spend"].message
    assert findings["score"].evidence["examples"][0]["user"] == 5
    json.dumps(result.to_dict(), allow_nan=False)


def test_one_sided_keys_are_counted_and_reported(offline):
    online = pd.concat([offline.iloc[10:], pd.DataFrame({"user": [99_999], "spend": [1.0]})])
    result = record_skew(offline, online, key="user")
    assert (result.matched, result.offline_only, result.online_only) == (9_990, 10, 1)
    assert result.offline_only_examples[0] == {"user": 0} and result.online_only_examples == [
        {"user": 99_999}
    ]
    unmatched = [f for f in result.findings() if f.check == "skew.record.unmatched"]
    assert unmatched[0].severity is Severity.WARNING
    no_overlap = record_skew(offline, offline.assign(user=offline["user"] + 10**6), key="user")
    assert no_overlap.findings()[0].severity is Severity.CRITICAL


def test_composite_key_and_time(offline):
    frame = offline.assign(day=pd.Timestamp("2024-01-01") + pd.to_timedelta(offline["user"] % 3, unit="D"))
    frame["user"] = frame["user"] // 3
    online = frame.copy()
    online.loc[online["day"] == pd.Timestamp("2024-01-02"), "visits"] += 1
    result = record_skew(frame, online, key="user", time="day", columns=["visits", "spend"])
    assert result.key == ["user", "day"] and [f.column for f in result.features] == ["visits", "spend"]
    assert result["visits"].mismatch_rate == pytest.approx(1 / 3, abs=0.01)
    assert result["visits"].examples[0]["day"].startswith("2024-01-02")


def test_bad_input(offline):
    with pytest.raises(InputError, match=r"offline data has 2 rows with a duplicate key \(user\)"):
        record_skew(pd.concat([offline, offline.iloc[:1]]), offline, key="user")
    with pytest.raises(InputError, match="online data has no key column 'user'"):
        record_skew(offline, offline.drop(columns="user"), key="user")
    with pytest.raises(InputError, match="online data has no column 'spend'"):
        record_skew(offline, offline.drop(columns="spend"), key="user", columns=["spend"])
    with pytest.raises(InputError, match="cannot join"):
        record_skew(offline, offline.assign(user=offline["user"].astype(str)), key="user")


def test_a_million_shuffled_rows_all_match():
    rng = np.random.default_rng(1)
    n = 1_000_000
    offline = pd.DataFrame(
        {"id": rng.permutation(n), "x": rng.normal(size=n), "c": rng.choice(list("abc"), n)}
    )
    online = offline.sample(frac=1, random_state=2)
    result = record_skew(offline, online, key="id")
    assert result.matched == n
