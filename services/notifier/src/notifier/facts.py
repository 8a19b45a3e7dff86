"""What the notifier reads off a public event: which fact (its webhook id), when, and whose."""

from __future__ import annotations

import hashlib
import uuid
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from common import dead_letter

MAX_WEBHOOK_ID = 64


def webhook_id_of(headers: dict[str, Any], topic: str, body: bytes) -> str:
    """The event's `ce_id` (the same on every redelivery of one fact); a digest of it if too long, or of
    the message itself if it has none."""
    ce_id = str(headers.get("ce_id") or "")
    if ce_id and len(ce_id) <= MAX_WEBHOOK_ID and ce_id.isprintable():
        return ce_id
    return "msg_" + hashlib.sha256((ce_id or topic).encode() + b"\0" + body).hexdigest()[:40]


def timestamp_of(headers: dict[str, Any], data: dict[str, Any]) -> str:
    """When the fact happened: the event's own time, else its `ce_time`, else now (ISO 8601)."""
    for value in (data.get("occurred_at"), headers.get("ce_time")):
        if isinstance(value, str):
            with suppress(ValueError):
                return datetime.fromisoformat(value).isoformat()
    return datetime.now(UTC).isoformat()


def generation_id_of(headers: dict[str, Any], data: dict[str, Any], key: bytes | None) -> uuid.UUID:
    for value in (headers.get("ce_subject"), data.get("generation_id"), data.get("generationId")):
        if value:
            with suppress(ValueError, TypeError, AttributeError):
                return uuid.UUID(str(value))
    found = dead_letter.generation_id_of(key)
    if found is None:
        raise ValueError("the event names no generation (ce_subject, generation_id or key)")
    return found
