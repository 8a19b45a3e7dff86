"""Provider-neutral names for where a provider reads the photo: `check_image_url` (its photo check) and
`job_image_url` (its video job), formerly DashScope's `detect_image_url` and `synthesis_image_url`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
RENAMED = {"detect_image_url": "check_image_url", "synthesis_image_url": "job_image_url"}


def upgrade() -> None:
    for old, new in RENAMED.items():
        op.alter_column("generations", old, new_column_name=new)


def downgrade() -> None:
    for old, new in RENAMED.items():
        op.alter_column("generations", new, new_column_name=old)
