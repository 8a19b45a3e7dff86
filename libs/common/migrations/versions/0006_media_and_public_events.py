"""Results that last and a contract other teams can build on: the media store's keys, the provider a
generation belongs to, the provider's own video link kept beside ours, and webhook deliveries.

`generations.video_url` held the provider's link; it is renamed `provider_video_url` (the API's
`videoUrl` is now the product's own signed link to its copy in the media store).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.alter_column("generations", "video_url", new_column_name="provider_video_url")
    for name, type_ in [
        ("provider_video_expires_at", _TS),
        ("callback_url", sa.Text()),
        ("video_key", sa.Text()),
        ("poster_key", sa.Text()),
        ("video_size_bytes", sa.BigInteger()),
        ("video_expires_at", _TS),
        ("media_expired_at", _TS),
        ("rendered_at", _TS),
        ("archive_started_at", _TS),
    ]:
        op.add_column("generations", sa.Column(name, type_))
    op.add_column(
        "generations", sa.Column("provider", sa.String(32), nullable=False, server_default="dashscope")
    )
    op.create_index(
        "ix_generations_video_expires_at",
        "generations",
        ["video_expires_at"],
        postgresql_where=sa.text("media_expired_at IS NULL AND video_expires_at IS NOT NULL"),
    )
    op.add_column("clients", sa.Column("callback_url", sa.Text()))
    op.add_column("assets", sa.Column("media_key", sa.Text()))
    op.add_column("assets", sa.Column("deleted_at", _TS))
    op.alter_column("assets", "data", nullable=True)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("webhook_id", sa.String(64), nullable=False),
        sa.Column("generation_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("client_id", sa.Uuid()),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("payload", JSONB(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", _TS, index=True),
        sa.Column("delivered_at", _TS),
        sa.Column("gave_up_at", _TS),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("webhook_id", "url", name="uq_webhook_deliveries_webhook_id_url"),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "delivery_id", sa.BigInteger(), sa.ForeignKey("webhook_deliveries.id"), nullable=False, index=True
        ),
        sa.Column("attempted_at", _TS, nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_column("assets", "deleted_at")
    op.drop_column("assets", "media_key")
    op.drop_column("clients", "callback_url")
    op.drop_index("ix_generations_video_expires_at", "generations")
    for name in [
        "provider",
        "archive_started_at",
        "rendered_at",
        "media_expired_at",
        "video_expires_at",
        "video_size_bytes",
        "poster_key",
        "video_key",
        "callback_url",
        "provider_video_expires_at",
    ]:
        op.drop_column("generations", name)
    op.alter_column("generations", "provider_video_url", new_column_name="video_url")
