"""Turn one provider task query into the generation's new state and, at the end, a public event."""

from __future__ import annotations

from typing import Any

from common.db.generations import GenerationStore, fail, now
from common.db.models import TERMINAL, Status
from common.events import Event, GenerationCompleted, GenerationFailed
from common.providers.errors import PermanentProviderError, ProviderError, RetryableProviderError

from poller.ports import TaskQueries
from poller.schedule import DueTask

WAITING = {"PENDING"}


async def check_task(due: DueTask, store: GenerationStore, provider: TaskQueries) -> Event | None:
    """Query the task once; return the event to publish when it reached a terminal state."""
    try:
        info = await provider.get_task(due.task_id)
    except RetryableProviderError:
        return None  # the schedule already moved this task's next poll out
    except PermanentProviderError as exc:
        return await fail(store, due.generation_id, "poller", exc.code, exc.message)
    except ProviderError:
        return None

    facts: dict[str, Any] = {"task_status": info.task_status, "poll_request_id": info.request_id}
    if info.task_status == "SUCCEEDED" and info.video_url:
        generation = await store.load(due.generation_id)
        if generation is None or generation.status in TERMINAL:
            return None
        await store.record(
            due.generation_id,
            status=Status.SUCCEEDED,
            stage="poller",
            video_url=info.video_url,
            video_duration=info.video_duration,
            finished_at=now(),
            next_poll_at=None,
            **facts,
        )
        return GenerationCompleted(
            generation_id=due.generation_id,
            task_id=due.task_id,
            video_url=info.video_url,
            video_duration=info.video_duration,
        )
    if info.task_status == "FAILED":
        await store.record(due.generation_id, next_poll_at=None, **facts)
        return await fail(
            store,
            due.generation_id,
            "poller",
            info.code or "TaskFailed",
            info.message or "The provider could not make the video.",
        )
    if info.task_status in ("CANCELED", "UNKNOWN"):
        status = Status.CANCELED if info.task_status == "CANCELED" else Status.EXPIRED
        message = (
            "The provider canceled the job."
            if status is Status.CANCELED
            else "The provider no longer knows this job (expired or never existed)."
        )
        changed = await store.record(
            due.generation_id,
            status=status,
            stage="poller",
            error_code=f"Task{info.task_status.title()}",
            error_message=message,
            finished_at=now(),
            next_poll_at=None,
            **facts,
        )
        if not changed:
            return None
        return GenerationFailed(
            generation_id=due.generation_id,
            stage="poller",
            code=f"Task{info.task_status.title()}",
            message=message,
            status=status.value,
        )
    # PENDING at the provider, or anything else (PRE-PROCESSING, RUNNING, POST-PROCESSING...): in progress.
    status = Status.PENDING if info.task_status in WAITING else Status.RUNNING
    await store.record(due.generation_id, status=status, **facts)
    return None
