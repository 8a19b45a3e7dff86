"""Turn one provider task query into the generation's new state and, at the end, a public event."""

from __future__ import annotations

from common.db.generations import now
from common.db.models import Status
from common.events import GenerationCompleted, GenerationFailed
from common.providers.errors import PermanentProviderError, RetryableProviderError

from poller.ports import TaskQueries, WatchedGenerations
from poller.schedule import DueTask

GONE = {
    "CANCELED": (Status.CANCELED, "TaskCanceled", "The provider canceled the job."),
    "UNKNOWN": (
        Status.EXPIRED,
        "TaskExpired",
        "The provider no longer knows this job (expired or never existed).",
    ),
}


async def check_task(due: DueTask, store: WatchedGenerations, provider: TaskQueries) -> None:
    """Query the task once; on a terminal provider status, end the generation with its event."""
    try:
        info = await provider.get_task(due.task_id)
    except RetryableProviderError:
        await store.count_retry(due.generation_id)
        return  # the schedule already moved this task's next poll out
    except PermanentProviderError as exc:
        failed = GenerationFailed(
            generation_id=due.generation_id, stage="poller", code=exc.code, message=exc.message
        )
        await _end(store, failed, Status.FAILED, error_code=exc.code, error_message=exc.message)
        return

    facts = {"task_status": info.task_status, "poll_request_id": info.request_id}
    if info.task_status == "SUCCEEDED" and info.video_url:
        completed = GenerationCompleted(
            generation_id=due.generation_id,
            task_id=due.task_id,
            video_url=info.video_url,
            video_duration=info.video_duration,
        )
        await _end(
            store,
            completed,
            Status.SUCCEEDED,
            video_url=info.video_url,
            video_duration=info.video_duration,
            **facts,
        )
    elif info.task_status == "FAILED":
        code, message = info.code or "TaskFailed", info.message or "The provider could not make the video."
        failed = GenerationFailed(generation_id=due.generation_id, stage="poller", code=code, message=message)
        await _end(store, failed, Status.FAILED, error_code=code, error_message=message, **facts)
    elif info.task_status in GONE:
        status, code, message = GONE[info.task_status]
        failed = GenerationFailed(
            generation_id=due.generation_id, stage="poller", code=code, message=message, status=status.value
        )
        await _end(store, failed, status, error_code=code, error_message=message, **facts)
    else:
        # PENDING, or anything else (PRE-PROCESSING, RUNNING, POST-PROCESSING...): in progress.
        status = Status.PENDING if info.task_status == "PENDING" else Status.RUNNING
        await store.record(due.generation_id, status=status, **facts)


async def _end(
    store: WatchedGenerations, event: GenerationCompleted | GenerationFailed, status: Status, **facts: object
) -> None:
    await store.finish(event, status=status, stage="poller", finished_at=now(), next_poll_at=None, **facts)
