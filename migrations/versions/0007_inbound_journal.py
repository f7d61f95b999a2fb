"""inbound journal: updates committed before they are acknowledged; leases

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("payload IS NOT NULL")


def upgrade() -> None:
    op.add_column("processed_inbound", sa.Column("lane", sa.SmallInteger(), nullable=True))
    op.add_column("processed_inbound", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("processed_inbound", sa.Column("payload", sa.LargeBinary(), nullable=True))
    op.create_index(
        "ix_processed_inbound_pending",
        "processed_inbound",
        ["lane", "seq"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ix_processed_inbound_pending", table_name="processed_inbound")
    with op.batch_alter_table("processed_inbound") as batch_op:
        batch_op.drop_column("payload")
        batch_op.drop_column("seq")
        batch_op.drop_column("lane")
