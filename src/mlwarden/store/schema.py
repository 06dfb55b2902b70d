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
    # segment ("country=FR"; "*": every segment) -> metric -> bound: the limits of each segment's SLOs
    segment_slos: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
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
    # the latest label of a prediction is one backward index step: evaluation never scans the history (0009)
    __table_args__ = (Index("ix_labels_latest", "model_id", "prediction_id", "id"),)
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
    # evaluations so far: once per change, however many replicas share the store (migration 0009)
    evaluations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


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
    """One episode of a problem: findings of one check on one column (or metric) and segment of a model,
    deduplicated by ``fingerprint``; ``pending`` until its rule's ``for`` windows, then ``firing``, then
    ``resolved`` (a later recurrence is a new row). Columns from ``fingerprint`` on: migration 0005."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "model_id", "status"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    check: Mapped[str] = mapped_column(String(100))
    column: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="firing")  # pending | firing | resolved
    message: Mapped[str] = mapped_column(Text)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    fingerprint: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    segment: Mapped[str] = mapped_column(String(300), default="")  # "" for all rows (0005; 300 long: 0008)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active_windows: Mapped[int] = mapped_column(Integer, default=1)  # consecutive windows with the finding
    clear_windows: Mapped[int] = mapped_column(Integer, default=0)  # consecutive windows without it
    last_window: Mapped[datetime | None] = mapped_column(default=None)  # the window last counted
    fired_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), default=None)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class ModelConfigVersion(Base):
    """A model configuration file as applied (DESIGN §5): the YAML text as given — ``${ENV}`` references
    as written, never their values — numbered 1, 2, … per model (migration 0005)."""

    __tablename__ = "model_configs"
    __table_args__ = (UniqueConstraint("model_id", "version", name="uq_model_configs_version"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


class Silence(Base):
    """Mutes notifications of the alerts its matchers select from ``starts_at`` to ``ends_at``
    (``[{name, value, regex}]``; a team's silences cover only its models). Migration 0005."""

    __tablename__ = "silences"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None, index=True)
    matchers: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"matchers": [{name, value, regex}]}
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertGroup(Base):
    """An aggregation group (Alertmanager's): the alerts one route sends one receiver with equal
    ``group_by`` values, and its timers. ``sent`` is ``{fingerprint: status}`` as last notified;
    ``next_flush_at`` is when it is next looked at (group_wait, then group_interval). Migration 0005."""

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("model_id", "route", "receiver", "group_key", name="uq_alert_groups"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    route: Mapped[str] = mapped_column(String(100))  # path in the routing tree: "", "0", "0.1"
    receiver: Mapped[str] = mapped_column(String(200))
    group_key: Mapped[str] = mapped_column(String(64))
    group_labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sent: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notifications: Mapped[int] = mapped_column(Integer, default=0)  # how many it has sent: the key's counter
    next_flush_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    last_notified_at: Mapped[datetime | None] = mapped_column(default=None)


class OutboxEntry(Base):
    """A notification to deliver, written in the transaction that decided it (migration 0005). ``key`` is
    the idempotency key receivers get; ``receiver_spec`` the receiver as configured (``${ENV}`` references
    unresolved). ``status``: pending → delivered, or dead after too many attempts."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    receiver: Mapped[str] = mapped_column(String(200))
    receiver_spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class DeliveryAttempt(Base):
    """One try at delivering an outbox entry: ``ok`` or ``failed`` with the error and how long it took."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10))  # ok | failed
    error: Mapped[str | None] = mapped_column(Text, default=None)
    duration_ms: Mapped[float] = mapped_column(Float)


class TeamAdmin(Base):
    """A team admin's email: told of a model's ownership problems when its owner cannot be reached
    (migration 0011)."""

    __tablename__ = "team_admins"
    __table_args__ = (UniqueConstraint("team_id", "email", name="uq_team_admins_email"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Retrain(Base):
    """One retrain in the ledger (DESIGN §8): why it happened, what was trained on what, how the gate judged
    it, who promoted it, and — once the replaced champion has scored ``outcome_windows`` windows in shadow —
    whether it helped (migration 0007)."""

    __tablename__ = "retrains"
    __table_args__ = (Index("ix_retrains_model", "model_id", "created_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str | None] = mapped_column(String(100), default=None)  # slo_breach, schedule, manual…
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parent_version: Mapped[str | None] = mapped_column(String(100), default=None)
    candidate_version: Mapped[str] = mapped_column(String(100))
    code_commit: Mapped[str | None] = mapped_column(String(100), default=None)
    feature_fingerprint: Mapped[str | None] = mapped_column(String(128), default=None)
    data_start: Mapped[datetime | None] = mapped_column(default=None)  # the training data's time window
    data_end: Mapped[datetime | None] = mapped_column(default=None)
    profile_digest: Mapped[str | None] = mapped_column(String(128), default=None)
    gate_config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    gate_result: Mapped[dict[str, Any]] = mapped_column(default=dict)  # DESIGN §8 JSON, slices included
    decision: Mapped[str] = mapped_column(String(10))  # promote | hold | reject
    promoted_by: Mapped[str | None] = mapped_column(String(200), default=None)
    promoted_at: Mapped[datetime | None] = mapped_column(default=None)
    rolled_back_at: Mapped[datetime | None] = mapped_column(default=None)
    shadow: Mapped[dict[str, Any]] = mapped_column(default=dict)  # shadow statistics before promotion
    outcome_windows: Mapped[int] = mapped_column(Integer, default=3)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    outcome_status: Mapped[str | None] = mapped_column(String(20), default=None)  # helped|hurt|no_difference


class ShadowWindow(Base):
    """Per window, a shadow version against the champion on the same prediction ids: agreement of their
    outputs and, on labelled rows, the paired metric difference with its interval (migration 0007)."""

    __tablename__ = "shadow_windows"
    __table_args__ = (UniqueConstraint("model_id", "window_start", "version", name="uq_shadow_window"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    version: Mapped[str] = mapped_column(String(100))
    champion_version: Mapped[str | None] = mapped_column(String(100), default=None)
    rows: Mapped[int] = mapped_column(Integer)  # prediction ids both scored
    agreement: Mapped[float | None] = mapped_column(Float, default=None)
    labelled: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)  # metric, values, delta, ci, p_value, test
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetrainNotification(Base):
    """A fired retrain trigger posted to ``retrain.notify``: one row per firing (its idempotency key), with
    the attempts made (migration 0007)."""

    __tablename__ = "retrain_notifications"
    __table_args__ = (UniqueConstraint("model_id", "key", name="uq_retrain_notification"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    key: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class ModelColumn(Base):
    """A column name a model's batches or references brought: the per-model column limit counts them
    (migration 0009; names are not backfilled for batches stored before it)."""

    __tablename__ = "model_columns"
    __table_args__ = (UniqueConstraint("model_id", "name", name="uq_model_columns_name"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    name: Mapped[str] = mapped_column(String(200))
