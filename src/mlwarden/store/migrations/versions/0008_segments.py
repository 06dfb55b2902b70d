"""segments: findings and alerts per segment, and each prediction's segment values

Revision ID: 0008
Revises: 0007

Findings carry the segment they were made on ("country=FR"; NULL for all rows), alerts (keyed by it since
migration 0005) take segments as long as findings', and each stored prediction keeps its values of the
model's segment columns, so that window evaluation can compute performance per segment once labels arrive.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment", sa.String(length=300), nullable=True))
        batch_op.create_index("ix_findings_model_segment", ["model_id", "segment"], unique=False)
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        # migration 0005 added alerts.segment (the fingerprint's part); findings' segments are up to 300 long
        batch_op.alter_column("segment", type_=sa.String(length=300), existing_type=sa.String(length=200))
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment_values", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_column("segment_values")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("segment", type_=sa.String(length=200), existing_type=sa.String(length=300))
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_model_segment")
        batch_op.drop_column("segment")
