"""supporter profiles: changes made after approval that wait for a coordinator

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("supporter_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_change", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("supporter_profiles", schema=None) as batch_op:
        batch_op.drop_column("pending_change")
