"""`dancer-admin retry`: send a generation that failed for a passing reason through the pipeline again.

Retryable: it ended FAILED, TIMED_OUT or EXPIRED and its public event said `retryable` (the provider was
down or slow past every retry, the job timed out, the provider's video link died or its video was
unusable), or a stage could not process one of its messages (`UnprocessableMessage`, e.g. a bug since
fixed). Anything else (a rejected photo, a provider's refusal, a cancel, a success) is refused.

In one transaction the row goes back to QUEUED (its error, end and poll schedule cleared, its stored
stage retries dropped, `attempt` + 1) and a new GenerationRequested goes to the outbox. That event is a
new fact: it carries the attempt, which is part of its `ce_id` (`common.messaging.fact_id`), and so is
the run's public outcome: a subscriber sees a second failure, not a redelivery of the first.

What the new run redoes: the stages skip what is still stored (a redelivery does the same). The
provider's job is kept (no second paid job) unless the job is what failed (timed out, dead video link,
unusable video): then a new one is submitted, after a fresh upload of the photo; the old one is kept in
`previous_task_ids`, so the synthesizer never takes it for another generation's unsettled submission.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from common import outbox, topics
from common.db.generations import now
from common.db.models import Asset, Generation, OutboxRecord, StageRetry, Status
from common.events import GenerationRequested
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SOURCE = "admin"
UNPROCESSABLE = "UnprocessableMessage"
FAILED_ENDS = (Status.FAILED, Status.TIMED_OUT, Status.EXPIRED)
# The provider's job itself is what failed: it never finished, its video link died (EXPIRED), or its video
# is unusable. Any other failure after the job (e.g. the video server down past every retry) keeps it.
JOB_FAILURES = frozenset({"TimedOut", "VideoLinkExpired", "VideoTooLarge", "InvalidVideo"})
# What a new provider job needs anew: the photo's upload (its links expire) and everything of the old job.
NEW_JOB: dict[str, Any] = {
    **dict.fromkeys(("check_image_url", "job_image_url", "upload_request_id", "upload_started_at")),
    **dict.fromkeys(("uploaded_at", "task_id", "task_status", "submit_request_id", "submit_started_at")),
    **dict.fromkeys(("submitted_at", "poll_request_id", "provider_video_url", "provider_video_expires_at")),
    **dict.fromkeys(("video_duration", "rendered_at", "archive_started_at")),
    "poll_count": 0,
}


class Refused(Exception):
    """The generation cannot be retried; the message says why."""


@dataclass(frozen=True)
class Retried:
    generation_id: uuid.UUID
    attempt: int
    was: str  # e.g. "FAILED at detector: Throttling"
    new_job: bool  # the provider job is submitted anew

    def __str__(self) -> str:
        job = "a new provider job will be submitted" if self.new_job else "the provider job is kept"
        return f"{self.generation_id}: QUEUED again, attempt {self.attempt} (was {self.was}); {job}"


async def last_outcome(session: AsyncSession, generation_id: uuid.UUID) -> dict[str, Any] | None:
    """The payload of the generation's latest GenerationFailed (FAILED, TIMED_OUT or EXPIRED)."""
    payload = await session.scalar(
        select(OutboxRecord.payload)
        .where(OutboxRecord.topic == topics.GENERATION_FAILED, OutboxRecord.key == str(generation_id))
        .order_by(OutboxRecord.id.desc())
        .limit(1)
    )
    return None if payload is None else dict(payload)


def job_failed(g: Generation) -> bool:
    """The provider's job is what failed: it timed out, its video link died, or its video is unusable."""
    ended = g.status in (Status.TIMED_OUT, Status.EXPIRED) or g.error_code in JOB_FAILURES
    return g.task_id is not None and ended


async def _check(session: AsyncSession, g: Generation | None, generation_id: uuid.UUID) -> Generation:
    if g is None:
        raise Refused(f"no generation {generation_id}")
    if g.status not in FAILED_ENDS:
        raise Refused(f"generation {g.id} is {g.status.value}: only a failed one can be retried")
    outcome = await last_outcome(session, g.id)
    if g.error_code != UNPROCESSABLE and not (outcome or {}).get("retryable"):
        raise Refused(
            f"generation {g.id} {g.status.value} at {g.stage} for a reason a retry would not change "
            f"({g.error_code}: {g.error_message}); the client may send a new request"
        )
    if g.task_id is None or job_failed(g):  # the photo is uploaded again
        asset = None if g.asset_id is None else await session.get(Asset, g.asset_id)
        if g.asset_id is not None and (asset is None or asset.deleted_at is not None):
            raise Refused(f"generation {g.id}: its photo is no longer kept; the client must send it again")
    return g


async def retry(sessions: async_sessionmaker[AsyncSession], generation_id: uuid.UUID) -> Retried:
    async with sessions.begin() as session:
        found = await session.get(Generation, generation_id, with_for_update=True)
        g = await _check(session, found, generation_id)
        was = f"{g.status.value} at {g.stage}: {g.error_code}"
        new_job = g.task_id is None or job_failed(g)
        g.attempt = (g.attempt or 0) + 1
        g.status, g.stage = Status.QUEUED, "gateway"
        g.error_code = g.error_message = None
        g.finished_at = g.next_poll_at = None
        g.updated_at = now()
        if new_job and g.task_id is not None:
            # The old job stays this generation's (never an orphan for another's unsettled submission).
            g.previous_task_ids = [*(g.previous_task_ids or []), g.task_id]
            g.submit_intent_at = None  # settled by that job long ago
        for name, value in (NEW_JOB if new_job else {}).items():
            setattr(g, name, value)
        await session.execute(delete(StageRetry).where(StageRetry.generation_id == g.id))
        request = GenerationRequested(
            generation_id=g.id,
            template_id=g.template_id,
            asset_id=g.asset_id,
            image_url=g.image_url,
            attempt=g.attempt,
        )
        outbox.add(session, request, SOURCE)
        return Retried(g.id, g.attempt, was, new_job)
