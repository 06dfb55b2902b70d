"""labels: an index on (model_id, prediction_id, id), so a window's label join costs its rows, not history;
windows: how often each was evaluated

Revision ID: 0009
Revises: 0004

Window evaluation looked up the latest label of every prediction the model ever had, then kept the
window's: on PostgreSQL its cost grew with the label history (95–121 s for 10 windows over 40k labels).
Each window's prediction now finds its own latest label, one backward step in this index (the id is the
label's arrival order). It replaces ``ix_labels_key`` on (model_id, prediction_id), its prefix.

``windows.evaluations`` counts evaluations: replicas share the windows, and each must be evaluated once per
change (existing windows start at their status: 1 if evaluated or failed, else 0).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index("ix_labels_latest", ["model_id", "prediction_id", "id"])
        batch_op.drop_index("ix_labels_key")
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evaluations", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE windows SET evaluations = 1 WHERE status <> 'open'")


def downgrade() -> None:
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.drop_column("evaluations")
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index("ix_labels_key", ["model_id", "prediction_id"])
        batch_op.drop_index("ix_labels_latest")
