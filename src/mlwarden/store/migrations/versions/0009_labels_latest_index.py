"""labels: an index on (model_id, prediction_id, id), so a window's label join costs its rows, not history;
windows: how often each was evaluated; model_columns: the names counted by the per-model column limit

Revision ID: 0009
Revises: 0004

Window evaluation looked up the latest label of every prediction the model ever had, then kept the
window's: on PostgreSQL its cost grew with the label history (95–121 s for 10 windows over 40k labels).
Each window's prediction now finds its own latest label, one backward step in this index (the id is the
label's arrival order). It replaces ``ix_labels_key`` on (model_id, prediction_id), its prefix.

``windows.evaluations`` counts evaluations: replicas share the windows, and each must be evaluated once per
change (existing windows start at their status: 1 if evaluated or failed, else 0).

``model_columns`` holds each column name a model's batches and references brought, counted against the
per-model column limit; names of batches stored before this revision are not backfilled.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index("ix_labels_latest", ["model_id", "prediction_id", "id"])
        batch_op.drop_index("ix_labels_key")
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evaluations", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE windows SET evaluations = 1 WHERE status <> 'open'")
    op.create_table(
        "model_columns",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "name", name="uq_model_columns_name"),
    )


def downgrade() -> None:
    op.drop_table("model_columns")
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.drop_column("evaluations")
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index("ix_labels_key", ["model_id", "prediction_id"])
        batch_op.drop_index("ix_labels_latest")
