import math
from datetime import UTC, datetime

from mlwarden.findings import Finding, Severity, finite_or_none, sort_findings, worst_severity


def test_finding_round_trips_through_dict():
    f = Finding(
        check="drift",
        severity="warning",
        message="x drifted",
        column="x",
        value=0.2,
        threshold=0.1,
        window_start=datetime(2026, 1, 1, tzinfo=UTC),
    )
    d = f.to_dict()
    assert d["severity"] == "warning"
    assert d["window_start"] == "2026-01-01T00:00:00+00:00"
    assert Finding.from_dict(d) == f


def test_non_finite_values_serialise_as_null():
    f = Finding(check="drift", severity=Severity.INFO, message="m", value=math.inf, threshold=math.nan)
    assert f.to_dict()["value"] is None
    assert f.to_dict()["threshold"] is None
    assert finite_or_none(1) == 1.0


def test_severity_ordering():
    fs = [
        Finding(check="b", severity="info", message=""),
        Finding(check="a", severity="critical", message=""),
        Finding(check="c", severity="warning", message=""),
    ]
    assert [f.severity for f in sort_findings(fs)] == ["critical", "warning", "info"]
    assert worst_severity(fs) is Severity.CRITICAL
    assert worst_severity([]) is None
