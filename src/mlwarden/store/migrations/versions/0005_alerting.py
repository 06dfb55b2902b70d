"""alerting: alert state, model configurations, silences, aggregation groups, the outbox and its attempts

Revision ID: 0005
Revises: 0004

Alerts gain a fingerprint (model+check+column+segment), the counters rules need (``for`` and
``keep_firing_for`` in windows), firing and acknowledgement times; their states become pending | firing |
resolved (open alerts become firing). New tables: ``model_configs`` (versioned YAML as applied),
``silences``, ``alert_groups`` (grouping timers), ``outbox`` and ``delivery_attempts`` (durable delivery).
"""

import sqlalchemy as sa
from alembic import op

from mlwarden.store.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("segment", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("active_windows", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("clear_windows", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_window", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("fired_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_alerts_fingerprint", ["fingerprint"])
    op.execute("UPDATE alerts SET status = 'firing', fired_at = first_seen WHERE status = 'open'")

    op.create_table(
        "model_configs",
        sa.Column("id", Id, primary_key=True),
        sa.Column("model_id", Id, sa.ForeignKey("models.id"), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("model_id", "version", name="uq_model_configs_version"),
    )
    op.create_table(
        "silences",
        sa.Column("id", Id, primary_key=True),
        sa.Column("team_id", Id, sa.ForeignKey("teams.id"), nullable=True, index=True),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "alert_groups",
        sa.Column("id", Id, primary_key=True),
        sa.Column("model_id", Id, sa.ForeignKey("models.id"), nullable=False),
        sa.Column("route", sa.String(length=100), nullable=False),
        sa.Column("receiver", sa.String(length=200), nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=False),
        sa.Column("group_labels", sa.JSON(), nullable=False),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("notifications", sa.Integer(), nullable=False),
        sa.Column("next_flush_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("last_notified_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("model_id", "route", "receiver", "group_key", name="uq_alert_groups"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True),
        sa.Column("key", sa.String(length=64), nullable=False, unique=True),
        sa.Column("model_id", Id, sa.ForeignKey("models.id"), nullable=False, index=True),
        sa.Column("receiver", sa.String(length=200), nullable=False),
        sa.Column("receiver_spec", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("outbox_id", Id, sa.ForeignKey("outbox.id"), nullable=False, index=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    for table in ("delivery_attempts", "outbox", "alert_groups", "silences", "model_configs"):
        op.drop_table(table)
    op.execute("UPDATE alerts SET status = 'open' WHERE status IN ('firing', 'pending')")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_fingerprint")
        for column in (
            "acknowledged_by",
            "acknowledged_at",
            "fired_at",
            "last_window",
            "clear_windows",
            "active_windows",
            "evidence",
            "segment",
            "fingerprint",
        ):
            batch_op.drop_column(column)
