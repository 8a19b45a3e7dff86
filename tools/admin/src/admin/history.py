"""`dancer-admin history`: everything the database knows of one generation, in order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from common.db.models import Generation, GenerationEvent, OutboxRecord, StageRetry, WebhookDelivery
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ROW_FIELDS = [
    *("id", "status", "stage", "attempt", "template_id", "provider", "client_id", "asset_id", "image_url"),
    *("check_pass", "bodystyle", "detect_reason", "task_id", "task_status", "poll_count", "next_poll_at"),
    *("retries", "submit_intent_at", "provider_video_url", "video_key", "error_code", "error_message"),
    *("created_at", "updated_at", "finished_at"),
]
RETRY_FIELDS = ["stage", "attempts", "errors", "due_at", "last_code", "last_message"]
DELIVERY_FIELDS = [
    *("event_type", "webhook_id", "url", "attempts", "next_attempt_at", "delivered_at", "gave_up_at"),
    *("last_status_code", "last_error"),
]


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return getattr(value, "value", value)  # an enum's value


def _row(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {name: _value(getattr(obj, name)) for name in fields}


async def history(sessions: async_sessionmaker[AsyncSession], generation_id: uuid.UUID) -> dict[str, Any]:
    """The row, its status changes, stored retries, outbox records and webhook deliveries; {} if none."""
    async with sessions() as session:
        g = await session.get(Generation, generation_id)
        if g is None:
            return {}
        events = await session.scalars(
            select(GenerationEvent).where(GenerationEvent.generation_id == g.id).order_by(GenerationEvent.id)
        )
        retries = await session.scalars(
            select(StageRetry).where(StageRetry.generation_id == g.id).order_by(StageRetry.id)
        )
        records = await session.scalars(
            select(OutboxRecord).where(OutboxRecord.key == str(g.id)).order_by(OutboxRecord.id)
        )
        deliveries = await session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.generation_id == g.id).order_by(WebhookDelivery.id)
        )
        return {
            "generation": _row(g, ROW_FIELDS),
            "status_history": [_row(e, ["at", "status", "stage"]) for e in events],
            "stage_retries": [_row(r, RETRY_FIELDS) for r in retries],
            "outbox": [
                {
                    **_row(r, ["id", "topic", "created_at", "published_at"]),
                    "ce_type": r.headers.get("ce_type"),
                    "ce_id": r.headers.get("ce_id"),
                    "attempt": r.payload.get("attempt", 0),
                }
                for r in records
            ],
            "webhook_deliveries": [_row(d, DELIVERY_FIELDS) for d in deliveries],
        }


def render(found: dict[str, Any]) -> str:
    """The history, readable: the row's set fields, then one line per entry of each list."""
    g = found["generation"]
    lines = [f"generation {g['id']}: {g['status']} at {g['stage']} (attempt {g['attempt']})"]
    lines += [f"  {k}: {v}" for k, v in g.items() if v is not None and k not in ("id", "status", "stage")]
    lines.append("status history:")
    lines += [f"  {e['at']}  {e['status']:<10} {e['stage']}" for e in found["status_history"]] or ["  -"]
    lines.append("stored stage retries:")
    lines += [
        f"  {r['stage']}: {r['attempts']} attempt(s), due {r['due_at']}, "
        f"last {r['last_code']}: {r['last_message']}"
        for r in found["stage_retries"]
    ] or ["  -"]
    lines.append("outbox:")
    lines += [
        f"  #{r['id']} {r['topic']} ({r['ce_type']}, attempt {r['attempt']}, ce_id {r['ce_id']}) "
        f"created {r['created_at']}, {_published(r['published_at'])}"
        for r in found["outbox"]
    ] or ["  -"]
    lines.append("webhook deliveries:")
    lines += [_delivery(d) for d in found["webhook_deliveries"]] or ["  -"]
    return "\n".join(lines)


def _published(at: str | None) -> str:
    return f"published {at}" if at else "NOT PUBLISHED yet"


def _delivery(d: dict[str, Any]) -> str:
    if d["delivered_at"]:
        state = f"delivered {d['delivered_at']}"
    elif d["gave_up_at"]:
        state = f"gave up {d['gave_up_at']}"
    else:
        state = f"next attempt {d['next_attempt_at']}"
    last = f", last answer {d['last_status_code'] or d['last_error']}" if d["attempts"] else ""
    return f"  {d['event_type']} -> {d['url']}: {d['attempts']} attempt(s), {state}{last}"
