"""segment SLOs: per-segment objectives of a model

Revision ID: 0013
Revises: 0011

A model's SLOs may carry limits per segment (``slo: {roc_auc: {min: 0.78, segments: {"country=FR": 0.75,
"*": 0.7}}}`` in its configuration, DESIGN §5): stored as ``{segment: {metric: limit}}`` beside ``slos``,
applied by window evaluation to each segment of the model's ``columns.segments``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment_slos", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_column("segment_slos")
