"""Identifiers and the provider's timestamp format."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from typing import NewType

AccountId = NewType("AccountId", str)
TaskId = NewType("TaskId", str)

# The provider runs in Beijing; its timestamps carry no zone, so render them in UTC+8.
_BEIJING = timezone(timedelta(hours=8))


def new_request_id() -> str:
    return str(uuid.uuid4())


def new_task_id() -> TaskId:
    return TaskId(str(uuid.uuid4()))


def provider_time(epoch: float | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS.mmm`, as the task query shows times."""
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, _BEIJING)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def parse_compact_time(text: str) -> float:
    """`YYYYMMDDhhmmss` (Beijing time, as the task list takes it) to epoch seconds."""
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=_BEIJING).timestamp()


def new_template_id() -> str:
    """`AACT.<8 hex>.<22 url-safe>.<2>-<2>-<2>`, the shape of the provider's template ids."""
    raw = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
    tail = "-".join(
        secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")[i : i + 2] for i in (0, 2, 4)
    )
    return f"AACT.{secrets.token_hex(4)}.{raw}.{tail}"
