"""The notification a receiver is given: one group of alerts for one receiver, as delivered by the outbox.

Receivers (``mlwarden.alerts.receivers.<kind>.send``) render it into their own payloads; ``key`` is the
idempotency key, stable across retries and restarts, so a receiver that sees it twice can drop the copy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from mlwarden.alerts.errors import DeliveryError

__all__ = ["AlertInfo", "DeliveryError", "Notification"]

Status = Literal["firing", "resolved"]


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """One alert in a notification. ``labels``: alertname, model, check, severity, column, segment (those
    set); ``annotations``: summary, description, evidence (JSON text), runbook_url, dashboard_url (those
    known). ``ends_at`` is set once resolved. Times are timezone-aware UTC."""

    fingerprint: str
    status: Status
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """A group of alerts for one receiver. ``status`` is ``firing`` when any alert in it fires.
    ``group_labels`` are the route's ``group_by`` labels with the group's values."""

    key: str
    receiver: str
    status: Status
    group_labels: dict[str, str]
    alerts: list[AlertInfo]
    model: str
    owner: str | None = None
    runbook: str | None = None
    dashboard_url: str | None = None
    model_version: str | None = None
    external_url: str | None = None

    @property
    def firing(self) -> list[AlertInfo]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[AlertInfo]:
        return [a for a in self.alerts if a.status == "resolved"]

    def common_labels(self) -> dict[str, str]:
        """The labels every alert in the notification has with the same value."""
        return _common([a.labels for a in self.alerts])

    def common_annotations(self) -> dict[str, str]:
        """The annotations every alert in the notification has with the same value."""
        return _common([a.annotations for a in self.alerts])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (datetimes as ISO 8601): what the outbox stores."""
        out = asdict(self)
        for alert in out["alerts"]:
            for name in ("starts_at", "ends_at"):
                alert[name] = alert[name].isoformat() if alert[name] else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notification:
        alerts = [
            AlertInfo(
                **{
                    **a,
                    "starts_at": datetime.fromisoformat(a["starts_at"]),
                    "ends_at": datetime.fromisoformat(a["ends_at"]) if a["ends_at"] else None,
                }
            )
            for a in data["alerts"]
        ]
        return cls(**{**data, "alerts": alerts})


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first, *rest = maps
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in rest)}
