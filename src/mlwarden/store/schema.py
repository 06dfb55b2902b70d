"""The store's tables (SQLAlchemy 2 declarative). One schema for SQLite and PostgreSQL.

Migrations live in ``migrations/`` (Alembic); change a table here, then add a revision there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Integer primary keys that autoincrement on both backends (SQLite needs plain INTEGER for its rowid alias).
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive values; we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        bytes: LargeBinary(),
    }


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), index=True)  # shown in listings, never the secret
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the whole token
    scopes: Mapped[str] = mapped_column(String(100))  # space-separated: read ingest admin
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Model(Base):
    """A registered model; names are unique within a team (teams never learn each other's names)."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("team_id", "name", name="uq_models_team_name"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_name: Mapped[str | None] = mapped_column(String(200), default=None)
    owner_email: Mapped[str | None] = mapped_column(String(320), default=None)
    oncall: Mapped[str | None] = mapped_column(String(500), default=None)
    runbook_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    slos: Mapped[dict[str, Any]] = mapped_column(default=dict)  # metric -> bound, e.g. {"roc_auc": 0.8}
    columns: Mapped[dict[str, Any]] = mapped_column(default=dict)  # id/timestamp/prediction/score/target
    contract: Mapped[str | None] = mapped_column(Text, default=None)  # YAML; batches are validated against it
    window_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    grace_seconds: Mapped[int] = mapped_column(Integer, default=60)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    version: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(20), default="shadow")
    artifact_uri: Mapped[str | None] = mapped_column(String(1000), default=None)
    feature_fingerprint: Mapped[str | None] = mapped_column(String(128), default=None)
    offline_metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    training_profile: Mapped[bytes | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reference(Base):
    """A model's reference: its profile, and a labelled sample of its output columns for estimation."""

    __tablename__ = "reference_sets"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    rows: Mapped[int] = mapped_column(BigInteger)
    profile: Mapped[bytes]
    labelled: Mapped[bytes | None] = mapped_column(default=None)  # Parquet: target, prediction, scores
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("model_id", "kind", "batch_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    kind: Mapped[str] = mapped_column(String(20))  # predictions | labels
    batch_id: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str | None] = mapped_column(String(128), default=None)
    model_version: Mapped[str | None] = mapped_column(String(100), default=None)
    # SHA-256 (hex) of the batch's rows: a repeated batch_id with other rows is refused (migration 0004)
    content_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class PartialProfile(Base):
    """The profile of one batch's rows that fall in one window; a window's profile is their merge."""

    __tablename__ = "partial_profiles"
    __table_args__ = (Index("ix_partial_window", "model_id", "window_start"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    batch_pk: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    window_start: Mapped[datetime]
    rows: Mapped[int] = mapped_column(Integer)
    profile: Mapped[bytes]


class Prediction(Base):
    """Prediction keys and outputs, kept to join delayed labels (realized performance) and estimate.

    High-volume and append-only: no foreign keys (a per-row check costs more than the insert itself); rows
    are written in the same transaction as their batch, which is what guarantees they belong to one.
    """

    __tablename__ = "predictions"
    __table_args__ = (
        # hash on PostgreSQL: random ids make B-tree inserts the costliest part of ingestion (migration 0002)
        Index("ix_predictions_key", "prediction_id", postgresql_using="hash"),
        Index("ix_predictions_time", "model_id", "ts"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(Id)
    batch_pk: Mapped[int] = mapped_column(Id)
    prediction_id: Mapped[str] = mapped_column(String(200))
    ts: Mapped[datetime]
    prediction: Mapped[str | None] = mapped_column(String(200), default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    scores: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # multiclass: one score per class
    # the row's values of the model's segment columns, joined by mlwarden.profile.segments.SEPARATOR (0008)
    segment_values: Mapped[str | None] = mapped_column(String(400), default=None)


class Label(Base):
    """Delayed labels by prediction id; append-only like predictions (no foreign keys, same reason)."""

    __tablename__ = "labels"
    __table_args__ = (Index("ix_labels_key", "model_id", "prediction_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(Id)
    batch_pk: Mapped[int] = mapped_column(Id)
    prediction_id: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200))
    ts: Mapped[datetime] = mapped_column(default=utcnow)


class Window(Base):
    __tablename__ = "windows"
    __table_args__ = (UniqueConstraint("model_id", "start"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | evaluated | failed
    evaluated_upto: Mapped[int] = mapped_column(Id, default=0)  # last partial profile included
    labels_arrived: Mapped[bool] = mapped_column(Boolean, default=False)  # since the last evaluation
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)  # an evaluator is working on it
    evaluated_at: Mapped[datetime | None] = mapped_column(default=None)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class StoredFinding(Base):
    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_model_time", "model_id", "window_start"),
        Index("ix_findings_model_segment", "model_id", "segment"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), default=None)
    window_start: Mapped[datetime | None] = mapped_column(default=None)
    window_end: Mapped[datetime | None] = mapped_column(default=None)
    check: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(10))
    column: Mapped[str | None] = mapped_column(String(200), default=None)
    value: Mapped[float | None] = mapped_column(Float, default=None)
    threshold: Mapped[float | None] = mapped_column(Float, default=None)
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    segment: Mapped[str | None] = mapped_column(String(300), default=None)  # "country=FR" (migration 0008)


class Alert(Base):
    """An open problem: findings of the same check on the same column of a model, deduplicated."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "model_id", "status"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    check: Mapped[str] = mapped_column(String(100))
    column: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    message: Mapped[str] = mapped_column(Text)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    segment: Mapped[str] = mapped_column(String(300), default="")  # "" for all rows (migration 0008)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(default=None)
