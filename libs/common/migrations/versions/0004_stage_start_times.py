"""When each stage started its work: splits a generation's time into queue wait and work per stage.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("upload_started_at", "detect_started_at", "submit_started_at")


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("generations", sa.Column(column, sa.DateTime(timezone=True)))


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_column("generations", column)
