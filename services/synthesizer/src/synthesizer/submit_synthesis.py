"""On ImageAccepted: submit the paid video job, never twice for one generation.

Submissions are serialized per provider account (a lock shared by all replicas). The intent is recorded
before the submit and the task id right after. When the outcome of a submit is unknown (a crash, a
timeout, a 5xx after the request went out), the intent stays open, and the next holder of the lock
settles it before anything else: a job the provider has that no generation owns, created after that
intent, belongs to it. So at most one submission is ever unsettled, and a job is never given to the
wrong generation nor paid for twice.

A provider that cannot list its jobs (cutout.pro) keeps the first two guarantees: one unsettled
submission at a time per account, never the wrong generation's job. Its unsettled submission is written
off: the generation submits anew, and the job the lost submission may have made is counted as a possible
double spend (`dancer_possible_double_spend_total`), so an operator sees what it may have cost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from common import metrics
from common.db.generations import GenerationStore, fail, now
from common.db.models import TERMINAL, Generation, Status
from common.events import Event, ImageAccepted, SynthesisSubmitted
from common.faults import AFTER_SUBMIT, crash_point
from common.providers.errors import PermanentProviderError, ProviderUnreachable, RetryableProviderError
from common.providers.ports import JobRequest, VideoJobs

from synthesizer.ports import OpenIntent, Submissions

CLOCK_SKEW = timedelta(minutes=2)
log = logging.getLogger(__name__)


async def submit_synthesis(
    event: ImageAccepted,
    store: GenerationStore,
    submissions_of: Callable[[str], Submissions],
    jobs_of: Mapping[str, VideoJobs],
) -> Event | None:
    """`submissions_of(provider)`: that provider account's submissions; `jobs_of`: its video jobs."""
    generation = await store.load(event.generation_id)
    if generation is None or _settled(generation):
        return _reannounce(event, generation)
    provider = generation.provider
    submissions, jobs = submissions_of(provider), jobs_of[provider]
    async with submissions.exclusive():
        if intent := await submissions.open_intent():
            await _settle(intent, submissions, jobs, provider)
        generation = await store.load(event.generation_id)  # another replica may have been first
        if generation is None or _settled(generation):
            return _reannounce(event, generation)
        started = now()  # the wait for the account's turn counts as queueing, like the wait in Kafka
        await store.record(
            event.generation_id,
            status=Status.SUBMITTING,
            stage="synthesizer",
            submit_intent_at=started,
            submit_started_at=started,
        )
        try:
            gif = generation.output_format == "gif"
            job = await jobs.submit(
                JobRequest(event.job_image_url, event.template_id, "gif" if gif else "mp4")
            )
        except PermanentProviderError as exc:
            await submissions.close_intent(event.generation_id)
            await fail(store, event.generation_id, "synthesizer", exc.code, exc.message)
            return None
        except RetryableProviderError as exc:
            # The provider answered (429), or the request never reached it: no job was made.
            if isinstance(exc, ProviderUnreachable) or (exc.status is not None and exc.status < 500):
                await submissions.close_intent(event.generation_id)
            raise
        crash_point(AFTER_SUBMIT)
        if not await submissions.attach_task(event.generation_id, job):
            return None  # canceled meanwhile: the poller cancels the job at the provider
    return SynthesisSubmitted(generation_id=event.generation_id, task_id=job.id)


def _settled(generation: Generation | None) -> bool:
    return generation is None or generation.status in TERMINAL or bool(generation.task_id)


def _reannounce(event: ImageAccepted, generation: Generation | None) -> Event | None:
    """Redelivered: the job exists; announce it again, never submit a second paid job."""
    if generation is None or generation.status in TERMINAL or not generation.task_id:
        return None
    return SynthesisSubmitted(generation_id=event.generation_id, task_id=generation.task_id)


async def _settle(intent: OpenIntent, submissions: Submissions, jobs: VideoJobs, provider: str) -> None:
    """Give the unsettled submission the job it made, if it made one; either way close it."""
    since: datetime = intent.at - CLOCK_SKEW
    listed = await jobs.jobs_since(since, now() + CLOCK_SKEW)
    if listed is None:  # no job list: written off, the generation submits anew
        log.warning("%s: submission's outcome unknown, submitting anew (a possible double spend)", provider)
        metrics.POSSIBLE_DOUBLE_SPEND.labels(provider).inc()
    else:
        known = await submissions.known_task_ids([j.id for j in listed])
        orphans = sorted((j for j in listed if j.id not in known), key=lambda j: j.created_at or since)
        if orphans:
            await submissions.attach_task(intent.generation_id, orphans[-1])
    await submissions.close_intent(intent.generation_id)
