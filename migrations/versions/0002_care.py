"""care over time: her time zone and reachable hours, check-ins switch, same supporter again

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reach_hours", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("checkins_wanted", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("seeker_again", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("supporter_again", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_column("supporter_again")
        batch_op.drop_column("seeker_again")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("checkins_wanted")
        batch_op.drop_column("reach_hours")
        batch_op.drop_column("timezone")
