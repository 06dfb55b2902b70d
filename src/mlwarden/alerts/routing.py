"""The routing tree (Alertmanager's): which receivers an alert goes to, grouped how, on which timers.

The root matches every alert. A node hands an alert to its first matching child (and to later matching
siblings while the matched children say ``continue: true``); a node whose children take nothing keeps the
alert and sends it to its own ``receivers``. Children inherit ``group_by`` and the timers they leave out.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlwarden.alerts.labels import matches
from mlwarden.schema.alerting import AlertsSection, ReceiverSpec, Route, is_email

# Alertmanager's defaults for the timers; alerts are grouped per model and check unless told otherwise
DEFAULT_GROUP_BY = ("model", "check")
DEFAULT_GROUP_WAIT = 30.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0
OWNER_RECEIVER = "owner"


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A routing node that took an alert: its ``path`` in the tree (``""`` the root, ``"0.1"`` the second
    child of the first child), its receivers, and its effective grouping (seconds)."""

    path: str
    receivers: tuple[str, ...]
    group_by: tuple[str, ...]
    group_wait: float
    group_interval: float
    repeat_interval: float

    def group_labels(self, labels: dict[str, str]) -> dict[str, str]:
        """The labels that name the alert's group (``...`` groups by every label, one group per alert)."""
        if "..." in self.group_by:
            return dict(labels)
        return {name: labels.get(name, "") for name in self.group_by}


def route(root: Route, labels: dict[str, str]) -> list[RouteMatch]:
    """The nodes that take an alert with ``labels`` (at least the root)."""
    base = RouteMatch(
        path="",
        receivers=tuple(root.receivers),
        group_by=tuple(root.group_by if root.group_by is not None else DEFAULT_GROUP_BY),
        group_wait=_or(root.group_wait, DEFAULT_GROUP_WAIT),
        group_interval=_or(root.group_interval, DEFAULT_GROUP_INTERVAL),
        repeat_interval=_or(root.repeat_interval, DEFAULT_REPEAT_INTERVAL),
    )
    return _descend(root, base, labels)


def _descend(node: Route, here: RouteMatch, labels: dict[str, str]) -> list[RouteMatch]:
    taken: list[RouteMatch] = []
    for i, child in enumerate(node.routes):
        if not matches(labels, child.match, child.match_re):
            continue
        inherited = RouteMatch(
            path=f"{here.path}.{i}" if here.path else str(i),
            receivers=tuple(child.receivers),
            group_by=tuple(child.group_by) if child.group_by is not None else here.group_by,
            group_wait=_or(child.group_wait, here.group_wait),
            group_interval=_or(child.group_interval, here.group_interval),
            repeat_interval=_or(child.repeat_interval, here.repeat_interval),
        )
        taken += _descend(child, inherited, labels)
        if not child.continue_:
            break
    return taken or [here]


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def effective_section(section: AlertsSection | None, owner_email: str | None) -> AlertsSection:
    """A model's ``alerts:`` section, or — for a model without one — a route of every alert to its
    registered owner's email (no owner email: no receiver; the alerts are stored only)."""
    if section is not None:
        return section
    if not owner_email or not is_email(owner_email):  # stored before addresses were checked
        return AlertsSection()
    return AlertsSection(
        receivers={OWNER_RECEIVER: ReceiverSpec(name=OWNER_RECEIVER, email={"to": [owner_email]})},
        route=Route(receivers=[OWNER_RECEIVER]),
    )
