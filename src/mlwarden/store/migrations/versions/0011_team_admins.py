"""team admins: who hears about a model whose owner cannot be reached

Revision ID: 0011
Revises: 0005

Ownership hygiene alerts (no owner, failing receivers, no traffic, labels overdue, stale evaluation) go to
the model's owner; when the owner cannot be reached they go to the team's admins, listed here.
"""

import sqlalchemy as sa
from alembic import op

from mlwarden.store.schema import UTCDateTime

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "team_admins",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("team_id", Id, sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "email", name="uq_team_admins_email"),
    )


def downgrade() -> None:
    op.drop_table("team_admins")
