"""Inhibition (Alertmanager's): while a ``source`` alert fires, ``target`` alerts with the same values of
the ``equal`` labels are not notified (a critical drift mutes the warning on the same column)."""

from __future__ import annotations

from collections.abc import Iterable

from mlwarden.alerts.labels import matches
from mlwarden.schema.alerting import Inhibition


def inhibited(labels: dict[str, str], firing: Iterable[dict[str, str]], rules: list[Inhibition]) -> bool:
    """True when some rule's source matches one of the ``firing`` alerts' labels (not the alert itself),
    its target matches ``labels``, and the two agree on every ``equal`` label."""
    if not rules:
        return False
    sources = [s for s in firing if s != labels]
    for rule in rules:
        if not matches(labels, rule.target):
            continue
        for source in sources:
            if matches(source, rule.source) and all(
                source.get(n, "") == labels.get(n, "") for n in rule.equal
            ):
                return True
    return False
