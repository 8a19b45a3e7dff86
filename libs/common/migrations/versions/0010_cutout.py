"""cutout.pro Photo Animer, the second provider: its six expression templates, the GIF a generation may
ask for (`output_format`), and what a generation costs (`billed_seconds`, as the provider bills it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# cutout.pro's templates 0-5 and the clip length it bills for each (shared/docs/dashscope.md, section 6).
CUTOUT_TEMPLATES = [
    ("cutout-0", "Expression 0", 3.13),
    ("cutout-1", "Expression 1", 7.13),
    ("cutout-2", "Expression 2", 2.13),
    ("cutout-3", "Expression 3", 6.75),
    ("cutout-4", "Expression 4", 4.38),
    ("cutout-5", "Expression 5", 3.75),
]
GENERATION_COLUMNS = (
    sa.Column("output_format", sa.String(8), nullable=False, server_default="mp4"),
    sa.Column("provider_gif_url", sa.Text),
    sa.Column("gif_key", sa.Text),
    sa.Column("billed_seconds", sa.Float),
)


def upgrade() -> None:
    templates = sa.table(
        "templates",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("duration_seconds", sa.Float),
        sa.column("active", sa.Boolean),
        sa.column("provider", sa.String),
    )
    op.bulk_insert(
        templates,
        [
            {
                "id": template_id,
                "name": name,
                "description": f"cutout.pro face animation: a {seconds:g} s expression clip of the face.",
                "duration_seconds": seconds,
                "active": True,
                "provider": "cutout",
            }
            for template_id, name, seconds in CUTOUT_TEMPLATES
        ],
    )
    for column in GENERATION_COLUMNS:
        op.add_column("generations", column)


def downgrade() -> None:
    for column in GENERATION_COLUMNS:
        op.drop_column("generations", column.name)
    op.execute(sa.text("DELETE FROM templates WHERE provider = 'cutout'"))
