"""Identifiers and the provider's timestamp format."""

from __future__ import annotations

import hashlib
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


def account_for_key(api_key: str) -> AccountId:
    return AccountId(hashlib.sha256(api_key.encode()).hexdigest()[:16])


def provider_time(epoch: float | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS.mmm`, as the task query shows times."""
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, _BEIJING)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
