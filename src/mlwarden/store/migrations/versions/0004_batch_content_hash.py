"""batches: a content hash, to tell a retried batch from a batch_id reused for other rows

Revision ID: 0004
Revises: 0003

A repeated batch_id used to be acknowledged as a duplicate whatever it held, dropping new rows without a
word. Each batch now stores the SHA-256 of a canonical form of its rows; a repeat with the same hash is a
duplicate, one with another hash is refused (409). Batches stored before this revision have no hash: a
repeat of one is taken as a duplicate, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("content_hash")
