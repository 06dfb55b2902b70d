"""model names unique per team, not across teams

Revision ID: 0003
Revises: 0002

A name unique across the whole store told a team which names other teams use (registering one answered
409 while reading it answered 404). Names are now unique within a team; every route looks a model up in
the caller's team.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# SQLite's constraint from 0001 has no name: batch mode finds it under this convention's name (and rebuilds
# the table, with foreign keys off: see env.py)
CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("models_name_key", "models", type_="unique")
        op.create_unique_constraint("uq_models_team_name", "models", ["team_id", "name"])
        return
    with op.batch_alter_table("models", naming_convention=CONVENTION) as batch_op:
        batch_op.drop_constraint("uq_models_name", type_="unique")
        batch_op.create_unique_constraint("uq_models_team_name", ["team_id", "name"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("uq_models_team_name", "models", type_="unique")
        op.create_unique_constraint("models_name_key", "models", ["name"])
        return
    with op.batch_alter_table("models", naming_convention=CONVENTION) as batch_op:
        batch_op.drop_constraint("uq_models_team_name", type_="unique")
        batch_op.create_unique_constraint("uq_models_name", ["name"])
