"""retrain ledger, shadow comparisons per window, retrain trigger notifications

Revision ID: 0007
Revises: 0005

``retrains``: one record per retrain (DESIGN §8) — trigger and evidence, parent and candidate versions,
code commit, feature fingerprint, training-data window and profile digest, gate configuration and result,
promotion, shadow statistics and outcome. ``shadow_windows``: per window, each shadow version against the
champion on the same prediction ids. ``retrain_notifications``: one row per fired trigger posted to
``retrain.notify`` (its idempotency key), with the attempts made.
"""

import sqlalchemy as sa
from alembic import op

import mlwarden.store.schema

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrain_notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", mlwarden.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", mlwarden.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "key", name="uq_retrain_notification"),
    )
    op.create_table(
        "retrains",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", mlwarden.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("trigger", sa.String(length=100), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("parent_version", sa.String(length=100), nullable=True),
        sa.Column("candidate_version", sa.String(length=100), nullable=False),
        sa.Column("code_commit", sa.String(length=100), nullable=True),
        sa.Column("feature_fingerprint", sa.String(length=128), nullable=True),
        sa.Column("data_start", mlwarden.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("data_end", mlwarden.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("profile_digest", sa.String(length=128), nullable=True),
        sa.Column("gate_config", sa.JSON(), nullable=False),
        sa.Column("gate_result", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("promoted_by", sa.String(length=200), nullable=True),
        sa.Column("promoted_at", mlwarden.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_at", mlwarden.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shadow", sa.JSON(), nullable=False),
        sa.Column("outcome_windows", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("outcome_status", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_retrains_model", "retrains", ["model_id", "created_at"], unique=False)
    op.create_table(
        "shadow_windows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("window_start", mlwarden.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", mlwarden.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("champion_version", sa.String(length=100), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("agreement", sa.Float(), nullable=True),
        sa.Column("labelled", sa.Integer(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("evaluated_at", mlwarden.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "window_start", "version", name="uq_shadow_window"),
    )


def downgrade() -> None:
    op.drop_table("shadow_windows")
    op.drop_index("ix_retrains_model", table_name="retrains")
    op.drop_table("retrains")
    op.drop_table("retrain_notifications")
