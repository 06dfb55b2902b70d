"""Building blocks of the alerting tests: a registered model with a configuration, and windows of findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mlwarden.alerts import grouping
from mlwarden.alerts.state import update_alerts
from mlwarden.findings import Finding, Severity
from mlwarden.registry import Actor, Registry
from mlwarden.registry.configs import apply_config
from mlwarden.store import Store
from mlwarden.store.schema import Alert, Model, OutboxEntry

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
OPERATOR = Actor.operator("test")


def configure(store: Store, text: str, name: str = "churn") -> Model:
    """Register ``name`` (team growth) with configuration ``text`` (its own ``owner:`` naming the team, or
    none); returns the model row."""
    owned = text.startswith("owner:") or "\nowner:" in text
    apply_config(
        Registry(store), OPERATOR, name, text if owned else f"owner: {{team: growth}}\n{text}", create=True
    )
    with store.session() as session:
        return session.scalar(select(Model).where(Model.name == name))


def drift(column: str, severity: Severity = Severity.WARNING) -> Finding:
    return Finding(check="drift", severity=severity, column=column, message=f"{column} drifted", value=0.3)


def window(
    store: Store,
    model: Model,
    findings: list[Finding],
    index: int,
    judged=lambda check: True,
    now: datetime | None = None,
) -> datetime:
    """Feed window ``index`` (hourly from T0) its findings, as evaluation does at its close (``now``,
    default the window's end); returns ``now``."""
    start = T0 + timedelta(hours=index)
    now = now or start + timedelta(hours=1)
    with store.session() as session:
        update_alerts(session, model, findings, window_start=start, now=now, judged=judged)
    return now


def statuses(store: Store) -> dict[str, str]:
    """``{column: status}`` of the latest alert per column."""
    with store.session() as session:
        return {a.column: a.status for a in session.scalars(select(Alert).order_by(Alert.id))}


def notifications(store: Store) -> list[dict]:
    """The outbox's notifications, oldest first."""
    with store.session() as session:
        return [e.payload for e in session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]


def outbox_keys(store: Store, status: str) -> list[str]:
    """The keys of the outbox's entries in ``status`` (pending, delivered, dead), oldest first."""
    with store.session() as session:
        return list(
            session.scalars(
                select(OutboxEntry.key).where(OutboxEntry.status == status).order_by(OutboxEntry.id)
            )
        )


def flush(store: Store, now: datetime) -> int:
    """Flush the groups due at ``now``; returns how many notifications were written."""
    with store.session() as session:
        return grouping.flush_due(session, now)


def firing_and_resolved(payload: dict) -> tuple[list[str], list[str]]:
    """The columns a notification reports firing, and resolved."""
    alerts = payload["alerts"]
    return (
        [a["labels"].get("column", "") for a in alerts if a["status"] == "firing"],
        [a["labels"].get("column", "") for a in alerts if a["status"] == "resolved"],
    )
