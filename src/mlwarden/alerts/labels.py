"""An alert's labels and fingerprint, and the label matchers rules, routes, inhibitions and silences use."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

from mlwarden.findings import Finding


def alert_subject(finding: Finding) -> str:
    """What an alert is about within its check: the column, or the metric of a performance finding."""
    return finding.column or str(finding.evidence.get("metric") or "")


def fingerprint(model: str, check: str, column: str, segment: str) -> str:
    """The identity of an alert: model+check+column+segment (32 hex characters of a SHA-256)."""
    text = json.dumps([model, check, column, segment], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def alert_labels(
    model: str, check: str, severity: str, column: str = "", segment: str = "", team: str = ""
) -> dict[str, str]:
    """The labels of an alert (``alertname`` is the check, as Alertmanager names alerts); empty values are
    left out, so that ``match: {column: x}`` never matches an alert without a column."""
    labels = {
        "alertname": check,
        "model": model,
        "check": check,
        "severity": severity,
        "column": column,
        "segment": segment,
        "team": team,
    }
    return {k: v for k, v in labels.items() if v}


def matches(
    labels: Mapping[str, str],
    match: Mapping[str, str] | None = None,
    match_re: Mapping[str, re.Pattern[str]] | None = None,
) -> bool:
    """True when every ``match`` label equals and every ``match_re`` pattern matches (a missing label is
    the empty string, as in Alertmanager). Patterns are compiled anchored (see ``schema.alerting``)."""
    equal = all(labels.get(name, "") == value for name, value in (match or {}).items())
    return equal and all(
        pattern.fullmatch(labels.get(name, "")) for name, pattern in (match_re or {}).items()
    )
