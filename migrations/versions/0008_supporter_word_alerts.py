"""guard marks: when coordinators were last told about a supporter's words

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guard_marks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("words_alert_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("boundary_alert_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("guard_marks", schema=None) as batch_op:
        batch_op.drop_column("boundary_alert_at")
        batch_op.drop_column("words_alert_at")
