"""Operator retries: `generations.attempt` counts how many times an operator sent a failed generation
through the pipeline again (`dancer-admin retry`); 0 for its first run. A retry whose provider job is
what failed drops it for a new one; `previous_task_ids` keeps the dropped jobs this generation's, so the
synthesizer never takes one for the orphan of another generation's unsettled submission.

Each run's facts are new facts: the attempt is part of the `ce_id` of its `GenerationRequested` and of
its public outcome, so subscribers (and webhook deliveries, keyed by `ce_id`) see a second failure
instead of taking it for a redelivery of the first.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("generations", sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("generations", sa.Column("previous_task_ids", ARRAY(sa.String(128))))
    op.create_index(
        "ix_generations_previous_task_ids", "generations", ["previous_task_ids"], postgresql_using="gin"
    )


def downgrade() -> None:
    op.drop_index("ix_generations_previous_task_ids", "generations")
    op.drop_column("generations", "previous_task_ids")
    op.drop_column("generations", "attempt")
