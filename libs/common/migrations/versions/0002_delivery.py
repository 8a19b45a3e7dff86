"""Delivery guarantees: outbox, scheduled stage retries, a shared rate limit, cancel and intent columns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.Column("headers", postgresql.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index("outbox_unpublished", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "stage_retries",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("generation_id", sa.Uuid, nullable=False),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_code", sa.String(128)),
        sa.Column("last_message", sa.Text),
        sa.UniqueConstraint("stage", "generation_id", name="stage_retries_one_per_stage"),
    )
    op.create_index("stage_retries_due", "stage_retries", ["stage", "due_at"])
    op.create_table(
        "rate_limits",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("generations", sa.Column("retries", sa.Integer, nullable=False, server_default="0"))
    op.add_column("generations", sa.Column("submit_intent_at", sa.DateTime(timezone=True)))
    op.add_column(
        "generations", sa.Column("provider_cancel_due", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.create_index(
        "generations_cancel_due", "generations", ["id"], postgresql_where=sa.text("provider_cancel_due")
    )


def downgrade() -> None:
    op.drop_index("generations_cancel_due", "generations")
    for column in ("provider_cancel_due", "submit_intent_at", "retries"):
        op.drop_column("generations", column)
    op.drop_table("rate_limits")
    op.drop_table("stage_retries")
    op.drop_table("outbox")
