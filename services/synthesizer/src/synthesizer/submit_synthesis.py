"""On ImageAccepted: submit the paid video job, never twice for one generation.

Submissions are serialized for the account (a lock shared by all replicas). The intent is recorded
before the submit and the task id right after. When the outcome of a submit is unknown (a crash, a
timeout, a 5xx after the request went out), the intent stays open, and the next holder of the lock
settles it before anything else: a job the provider has that no generation owns, created after that
intent, belongs to it. So at most one submission is ever unsettled, and a job is never given to the
wrong generation nor paid for twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from common.db.generations import GenerationStore, fail, now
from common.db.models import TERMINAL, Generation, Status
from common.events import Event, ImageAccepted, SynthesisSubmitted
from common.providers.dashscope import SYNTHESIS_MODEL, SubmittedTask
from common.providers.errors import PermanentProviderError, RetryableProviderError

from synthesizer.ports import OpenIntent, Submissions, VideoSynthesis

CLOCK_SKEW = timedelta(minutes=2)


async def submit_synthesis(
    event: ImageAccepted, store: GenerationStore, submissions: Submissions, provider: VideoSynthesis
) -> Event | None:
    generation = await store.load(event.generation_id)
    if _settled(generation):
        return _reannounce(event, generation)
    async with submissions.exclusive():
        if intent := await submissions.open_intent():
            await _settle(intent, submissions, provider)
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
            task = await provider.submit_synthesis(event.synthesis_image_url, event.template_id)
        except PermanentProviderError as exc:
            await submissions.close_intent(event.generation_id)
            await fail(store, event.generation_id, "synthesizer", exc.code, exc.message)
            return None
        except RetryableProviderError as exc:
            if exc.status is not None and exc.status < 500:  # the provider answered (429): no job made
                await submissions.close_intent(event.generation_id)
            raise
        if not await submissions.attach_task(event.generation_id, task):
            return None  # canceled meanwhile: the poller cancels the job at the provider
    return SynthesisSubmitted(generation_id=event.generation_id, task_id=task.task_id)


def _settled(generation: Generation | None) -> bool:
    return generation is None or generation.status in TERMINAL or bool(generation.task_id)


def _reannounce(event: ImageAccepted, generation: Generation | None) -> Event | None:
    """Redelivered: the job exists; announce it again, never submit a second paid job."""
    if generation is None or generation.status in TERMINAL or not generation.task_id:
        return None
    return SynthesisSubmitted(generation_id=event.generation_id, task_id=generation.task_id)


async def _settle(intent: OpenIntent, submissions: Submissions, provider: VideoSynthesis) -> None:
    """Give the unsettled submission the job it made, if it made one; either way close it."""
    since: datetime = intent.at - CLOCK_SKEW
    listed = await provider.list_tasks(since, now() + CLOCK_SKEW, SYNTHESIS_MODEL)
    known = await submissions.known_task_ids([t.task_id for t in listed])
    orphans = sorted((t for t in listed if t.task_id not in known), key=lambda t: t.created_ms or 0)
    if orphans:
        await submissions.attach_task(
            intent.generation_id, SubmittedTask(orphans[-1].task_id, orphans[-1].status, None)
        )
    await submissions.close_intent(intent.generation_id)
