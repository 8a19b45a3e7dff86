"""Turn one provider task query into the generation's new state: a video to archive, or its end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from common import metrics
from common.db.generations import now
from common.db.models import Status
from common.events import VideoRendered
from common.providers.errors import PermanentProviderError, RetryableProviderError

from poller.ports import JobStatuses, WatchedGenerations
from poller.schedule import DueTask

GONE = {
    "CANCELED": (Status.CANCELED, "TaskCanceled", "The provider canceled the job."),
    "UNKNOWN": (
        Status.EXPIRED,
        "TaskExpired",
        "The provider no longer knows this job (expired or never existed).",
    ),
}


async def check_task(due: DueTask, store: WatchedGenerations, jobs: JobStatuses) -> None:
    """Query the job once; a video goes to the archiver, a terminal failure ends the generation."""
    try:
        job = await jobs.status(due.task_id)
    except RetryableProviderError:
        await store.count_retry(due.generation_id)
        return  # the schedule already moved this task's next poll out
    except PermanentProviderError as exc:
        await store.end(
            due.generation_id, Status.FAILED, "poller", error_code=exc.code, error_message=exc.message
        )
        return

    facts: dict[str, Any] = {"task_status": job.provider_status, "poll_request_id": job.request_id}
    if job.status == "SUCCEEDED" and job.video_url:
        rendered = VideoRendered(
            generation_id=due.generation_id,
            task_id=due.task_id,
            provider_video_url=job.video_url,
            video_duration=job.video_duration,
            provider_gif_url=job.gif_url,
        )
        billed = jobs.billed_seconds(due.template_id, job)
        done = await store.rendered(
            rendered,
            status=Status.ARCHIVING,
            stage="archiver",
            provider_video_url=job.video_url,
            provider_video_expires_at=link_expiry(job.video_url),
            provider_gif_url=job.gif_url,
            video_duration=job.video_duration,
            billed_seconds=billed,
            rendered_at=now(),
            next_poll_at=None,
            **facts,
        )
        if done and billed:
            metrics.PROVIDER_BILLED_SECONDS.labels(due.provider).inc(billed)
    elif job.status == "FAILED":
        code, message = job.code or "TaskFailed", job.message or "The provider could not make the video."
        await store.end(
            due.generation_id, Status.FAILED, "poller", error_code=code, error_message=message, **facts
        )
    elif job.status in GONE:
        status, code, message = GONE[job.status]
        await store.end(due.generation_id, status, "poller", error_code=code, error_message=message, **facts)
    else:  # PENDING, RUNNING (or SUCCEEDED without a video yet): in progress
        status = Status.PENDING if job.status == "PENDING" else Status.RUNNING
        await store.record(due.generation_id, status=status, **facts)


def link_expiry(url: str) -> datetime | None:
    """When a signed OSS link stops working (its `Expires` parameter), if it says."""
    expires = parse_qs(urlsplit(url).query).get("Expires", [""])[0]
    return datetime.fromtimestamp(int(expires), UTC) if expires.isdigit() else None
