"""The frontend's API: clients and their keys, idempotency keys, a status history that notifies
listeners, the original project's two templates, template previews and providers.

Every change of a generation's status is written to `generation_events` by a trigger (whatever
process made it) and announced with `pg_notify('generation_events', '<generation id> <event id>')`,
so a gateway can stream status changes without polling.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The original project's two hard-coded templates (shared/docs/original-api.md), so its frontend works.
ORIGINAL_TEMPLATES = [
    ("AACT.8090e67b.ADo5Qtp4EfCu1wAWPj1Rgg.anXxTRJZ", "Dance 01", "The original project's first dance."),
    ("AACT.8090e67b.zNZS1u2FEfCnyAAWPj1RRQ.Viw40txe", "Dance 02", "The original project's second dance."),
]

_RECORD_STATUS = """
CREATE FUNCTION record_generation_status() RETURNS trigger AS $$
DECLARE
    event_id bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;
    INSERT INTO generation_events (generation_id, status, stage, at)
         VALUES (NEW.id, NEW.status, NEW.stage, clock_timestamp())
      RETURNING id INTO event_id;
    PERFORM pg_notify('generation_events', NEW.id::text || ' ' || event_id::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    templates = sa.table(
        "templates",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("active", sa.Boolean),
    )
    op.add_column("templates", sa.Column("preview_url", sa.Text))
    op.add_column(
        "templates", sa.Column("provider", sa.String(32), nullable=False, server_default="dashscope")
    )
    op.bulk_insert(
        templates,
        [{"id": i, "name": n, "description": d, "active": True} for i, n, d in ORIGINAL_TEMPLATES],
    )

    op.create_table(
        "clients",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("rate_per_minute", sa.Float),
        sa.Column("max_in_flight", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.add_column("generations", sa.Column("client_id", sa.Uuid, sa.ForeignKey("clients.id")))
    op.create_index("ix_generations_client_created", "generations", ["client_id", "created_at", "id"])
    op.create_index("ix_generations_created", "generations", ["created_at", "id"])

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(64), primary_key=True),  # the client's id, or "open"
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("generation_id", sa.Uuid, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"])

    op.create_table(
        "generation_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("generation_id", sa.Uuid, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_generation_events_generation", "generation_events", ["generation_id", "id"])
    op.execute(_RECORD_STATUS)
    op.execute(
        "CREATE TRIGGER generation_status_recorded AFTER INSERT OR UPDATE OF status ON generations "
        "FOR EACH ROW EXECUTE FUNCTION record_generation_status()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER generation_status_recorded ON generations")
    op.execute("DROP FUNCTION record_generation_status()")
    op.drop_table("generation_events")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_generations_created", "generations")
    op.drop_index("ix_generations_client_created", "generations")
    op.drop_column("generations", "client_id")
    op.drop_table("clients")
    op.execute(
        sa.text("DELETE FROM templates WHERE id IN :ids").bindparams(
            sa.bindparam("ids", [i for i, _, _ in ORIGINAL_TEMPLATES], expanding=True)
        )
    )
    op.drop_column("templates", "provider")
    op.drop_column("templates", "preview_url")
