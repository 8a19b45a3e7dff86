"""Traces across deferred work: the W3C trace context (`traceparent`, `tracestate`) of the work that
created a row, kept with the rows another moment picks up (see `common.tracing`): the poll schedule (a
generation being watched), a stage's stored retry and a webhook delivery. Outbox records keep it in their
`headers`. Null or `{}` when tracing is off.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
TABLES = ("generations", "stage_retries", "webhook_deliveries")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("trace_context", JSONB()))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "trace_context")
