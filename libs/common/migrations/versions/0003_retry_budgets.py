"""Retry budgets that do not count throttling, and partial indexes for two small work lists.

`stage_retries.errors` counts the failed attempts that were not throttling: a 429 asks for "later",
so it has its own, larger budget. The open submission intent (at most one) and the provider cancels
still due are looked up on every submit and every poll round; without these indexes, each lookup
scans the whole table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stage_retries", sa.Column("errors", sa.Integer, nullable=False, server_default="0"))
    op.create_index(
        "ix_generations_open_intent",
        "generations",
        ["submit_intent_at"],
        postgresql_where=sa.text("submit_intent_at IS NOT NULL AND task_id IS NULL"),
    )
    op.create_index(
        "ix_generations_cancel_due", "generations", ["id"], postgresql_where=sa.text("provider_cancel_due")
    )


def downgrade() -> None:
    op.drop_index("ix_generations_cancel_due", table_name="generations")
    op.drop_index("ix_generations_open_intent", table_name="generations")
    op.drop_column("stage_retries", "errors")
