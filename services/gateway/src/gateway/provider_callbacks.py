"""POST /api/providers/cutout/callback/<token>: cutout.pro's completion notice, a hint and nothing more.

cutout.pro POSTs `{"eventName": "EVENT_FACE_DRIVEN_TASK_FINISHED", "eventData": {"taskId", "resultUrl"}}`
to the URL registered with the account, unsigned. So the path carries a secret token
(`CUTOUT_CALLBACK_TOKEN`): a wrong or missing one answers 404, as a path that does not exist, and changes
nothing. The body is never trusted: it only names a task, whose generation is then due for a poll at
once, so the poller confirms the outcome with the provider itself about a second after the job ended
instead of at its next scheduled poll. A notice for a task no generation owns (the job of a submission
written off after a crash: a possible double spend) is counted (`unknown_task`), and otherwise ignored.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from common import metrics
from common.db.models import Generation, Status
from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.deps import SessionsDep, SettingsDep
from gateway.errors import ApiError

router = APIRouter(prefix="/api/providers")
PROVIDER = "cutout"


def task_id_of(body: bytes) -> str | None:
    """The task a notice names, if it names one (anything else in it is ignored)."""
    try:
        notice: Any = json.loads(body)
    except ValueError:
        return None
    data = notice.get("eventData") if isinstance(notice, dict) else None
    task_id = data.get("taskId") if isinstance(data, dict) else None
    if isinstance(task_id, bool) or not isinstance(task_id, int | str) or not str(task_id).strip():
        return None
    return str(task_id).strip()[:128]


@router.post("/cutout/callback/{token}", status_code=204, include_in_schema=False)
async def cutout_callback(
    token: str, request: Request, sessions: SessionsDep, settings: SettingsDep
) -> Response:
    expected = settings.cutout_callback_token.get_secret_value()
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(404, "NotFound", "Not Found")
    task_id = task_id_of(await request.body())
    outcome = "ignored" if task_id is None else await _make_due(sessions, task_id)
    metrics.PROVIDER_CALLBACKS.labels(PROVIDER, outcome).inc()
    return Response(status_code=204)


async def _make_due(sessions: async_sessionmaker[AsyncSession], task_id: str) -> str:
    """`due`: its generation is polled at once; `late`: already past polling; `unknown_task`: no owner."""
    owned = (Generation.provider == PROVIDER, Generation.task_id == task_id)
    async with sessions.begin() as session:
        due = await session.execute(
            update(Generation)
            .where(
                *owned,
                Generation.status.in_((Status.PENDING, Status.RUNNING)),
                Generation.next_poll_at.is_not(None),
            )
            .values(next_poll_at=func.now())  # due now: the poller's next round queries it
        )
        if due.rowcount:  # type: ignore[attr-defined]
            return "due"
        known = await session.scalar(select(Generation.id).where(*owned).limit(1))
    return "late" if known is not None else "unknown_task"
