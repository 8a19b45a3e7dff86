"""Read model: templates, assets, generations; seed the stock motion templates.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STOCK_TEMPLATES = [
    ("AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE", "Bounce", "An upbeat hip-hop bounce."),
    ("AACT.1f3c9a22.Bq7nWmR2Tk-Zx4Ha9sPe-Q.k2-JD-pL", "Sway", "A slow side-to-side sway."),
    ("AACT.5b7d2e10.Lp0sYv6Cu3-Ra8Qm1tWf-N.x9-HB-qR", "Pulse", "A dance that steps in and out."),
    ("AACT.c4e8a961.Fd2gHk5Jn8-Vb3Nc6Ym0-T.w1-ZS-eK", "Wave", "A body wave with a turn."),
]


def _ts(name: str, nullable: bool = True) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    templates = op.create_table(
        "templates",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("duration_seconds", sa.Float, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "generations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("template_id", sa.String(128), sa.ForeignKey("templates.id"), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("asset_id", sa.Uuid, sa.ForeignKey("assets.id")),
        sa.Column("image_url", sa.Text),
        sa.Column("detect_image_url", sa.Text),
        sa.Column("synthesis_image_url", sa.Text),
        sa.Column("upload_request_id", sa.String(64)),
        sa.Column("check_pass", sa.Boolean),
        sa.Column("bodystyle", sa.String(16)),
        sa.Column("detect_reason", sa.Text),
        sa.Column("detect_request_id", sa.String(64)),
        sa.Column("task_id", sa.String(128), unique=True),
        sa.Column("submit_request_id", sa.String(64)),
        sa.Column("task_status", sa.String(32)),
        sa.Column("poll_request_id", sa.String(64)),
        sa.Column("poll_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), index=True),
        sa.Column("video_url", sa.Text),
        sa.Column("video_duration", sa.Float),
        sa.Column("error_code", sa.String(128)),
        sa.Column("error_message", sa.Text),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("uploaded_at"),
        _ts("detected_at"),
        _ts("submitted_at"),
        _ts("finished_at"),
    )
    for column in ("created_at", "updated_at"):
        op.alter_column("generations", column, server_default=sa.func.now())
    op.bulk_insert(
        templates,
        [{"id": i, "name": n, "description": d, "active": True} for i, n, d in STOCK_TEMPLATES],
    )


def downgrade() -> None:
    op.drop_table("generations")
    op.drop_table("assets")
    op.drop_table("templates")
