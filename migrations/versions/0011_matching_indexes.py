"""matching at scale: matches by seeker (her last supporter) and by start (the weekly cap)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_matches_seeker_id", "matches", ["seeker_id"])
    op.create_index("ix_matches_started_at", "matches", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_matches_started_at", table_name="matches")
    op.drop_index("ix_matches_seeker_id", table_name="matches")
