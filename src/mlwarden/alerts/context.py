"""What alerting needs to know about a model: its team, owner, runbook, champion version and the ``alerts:``
section in force (its latest applied configuration, or the owner's email route)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlwarden.alerts.labels import alert_labels
from mlwarden.alerts.notification import AlertInfo
from mlwarden.alerts.routing import effective_section
from mlwarden.registry.configs import latest
from mlwarden.schema.alerting import AlertsSection
from mlwarden.schema.config import ModelConfig
from mlwarden.store.schema import Alert, Model, ModelVersion, Team

EXTERNAL_URL_ENV = "MLWARDEN_EXTERNAL_URL"  # the server's address as people reach it (links in notifications)


@dataclass(frozen=True, slots=True)
class ModelContext:
    model_id: int
    name: str
    team_id: int
    team: str
    owner: str | None
    runbook: str | None
    version: str | None
    section: AlertsSection

    @property
    def external_url(self) -> str | None:
        return os.environ.get(EXTERNAL_URL_ENV, "").rstrip("/") or None

    @property
    def dashboard_url(self) -> str | None:
        return f"{self.external_url}/models/{self.name}" if self.external_url else None

    def labels(self, alert: Alert) -> dict[str, str]:
        return alert_labels(self.name, alert.check, alert.severity, alert.column, alert.segment, self.team)

    def info(self, alert: Alert, status: str, now: datetime) -> AlertInfo:
        """The alert as a notification carries it: what fired, the evidence, the runbook and the link."""
        where = f" on {alert.column}" if alert.column else ""
        segment = f" (segment {alert.segment})" if alert.segment else ""
        annotations = {
            "summary": f"{self.name}: {alert.check}{where}{segment} is {alert.severity}",
            "description": alert.message,
            "evidence": json.dumps(alert.evidence or {}, sort_keys=True, default=str),
        }
        if self.runbook:
            annotations["runbook_url"] = self.runbook
        if self.dashboard_url:
            annotations["dashboard_url"] = self.dashboard_url
        return AlertInfo(
            fingerprint=alert.fingerprint or "",
            status=status,  # type: ignore[arg-type]
            labels=self.labels(alert),
            annotations=annotations,
            starts_at=alert.fired_at or alert.first_seen,
            ends_at=(alert.resolved_at or now) if status == "resolved" else None,
        )


def model_context(session: Session, model: Model) -> ModelContext:
    row = latest(session, model.id)
    section = _section(row.id, row.text) if row is not None else None
    version = session.scalar(
        select(ModelVersion.version).where(
            ModelVersion.model_id == model.id, ModelVersion.stage == "champion"
        )
    )
    owner = " ".join(
        p for p in (model.owner_name, f"<{model.owner_email}>" if model.owner_email else None) if p
    )
    return ModelContext(
        model_id=model.id,
        name=model.name,
        team_id=model.team_id,
        team=session.get(Team, model.team_id).name,
        owner=owner or None,
        runbook=model.runbook_url,
        version=version,
        section=effective_section(section, model.owner_email),
    )


@lru_cache(maxsize=256)
def _section(config_id: int, text: str) -> AlertsSection | None:
    """The ``alerts:`` section of a stored configuration (validated when applied; parsed once per row)."""
    return ModelConfig.from_text(text, stored=True).alerts
