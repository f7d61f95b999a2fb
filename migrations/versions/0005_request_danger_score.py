"""help requests: the danger score that orders the queue

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("danger_score", sa.Float(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.drop_column("danger_score")
