"""Rules: which findings become alerts, and after how many windows (DESIGN §7).

A finding at warning or worse becomes an alert candidate; the first rule whose matchers select it gives its
``for`` (consecutive windows with the finding before the alert fires) and ``keep_firing_for`` (windows
without it before the alert resolves). Findings no rule selects take :data:`DEFAULT_RULE` (fire at once,
resolve at the first clear window), so adding a rule for one check never silences the others. Info
findings become alerts only through a rule that matches on ``severity`` explicitly.
"""

from __future__ import annotations

from mlwarden.alerts.labels import matches
from mlwarden.schema.alerting import Rule

DEFAULT_RULE = Rule()


def rule_for(rules: list[Rule], labels: dict[str, str]) -> Rule | None:
    """The rule that governs an alert with ``labels``; ``None`` when it should not be an alert."""
    info = labels.get("severity") == "info"
    for rule in rules:
        if info and "severity" not in rule.match and "severity" not in rule.match_re:
            continue
        if matches(labels, rule.match, rule.match_re):
            return rule
    return None if info else DEFAULT_RULE
