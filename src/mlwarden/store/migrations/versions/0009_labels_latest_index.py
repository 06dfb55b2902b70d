"""labels: an index on (model_id, prediction_id, id), so a window's label join costs its rows, not history

Revision ID: 0009
Revises: 0004

Window evaluation looked up the latest label of every prediction the model ever had, then kept the
window's: on PostgreSQL its cost grew with the label history (95–121 s for 10 windows over 40k labels).
Each window's prediction now finds its own latest label, one backward step in this index (the id is the
label's arrival order). It replaces ``ix_labels_key`` on (model_id, prediction_id), its prefix.
"""

from alembic import op

revision = "0009"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index("ix_labels_latest", ["model_id", "prediction_id", "id"])
        batch_op.drop_index("ix_labels_key")


def downgrade() -> None:
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index("ix_labels_key", ["model_id", "prediction_id"])
        batch_op.drop_index("ix_labels_latest")
