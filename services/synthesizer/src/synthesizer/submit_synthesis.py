"""On ImageAccepted: submit the paid video job, never twice for one generation.

The intent is recorded before the submit and the task id right after, under a lock that serializes
submissions for the account. If a crash fell between the two, the next attempt finds the intent
and adopts the job the provider has but no generation owns, instead of paying for a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from common.db.generations import GenerationStore, fail, now
from common.db.models import TERMINAL, Generation, Status
from common.events import Event, ImageAccepted, SynthesisSubmitted
from common.providers.dashscope import SYNTHESIS_MODEL, SubmittedTask
from common.providers.errors import PermanentProviderError

from synthesizer.ports import Submissions, VideoSynthesis

CLOCK_SKEW = timedelta(minutes=2)


async def submit_synthesis(
    event: ImageAccepted, store: GenerationStore, submissions: Submissions, provider: VideoSynthesis
) -> Event | None:
    generation = await store.load(event.generation_id)
    if _settled(generation):
        return _reannounce(event, generation)
    async with submissions.exclusive():
        generation = await store.load(event.generation_id)  # another replica may have been first
        if generation is None or _settled(generation):
            return _reannounce(event, generation)
        task = None
        if generation.submit_intent_at is not None:
            task = await _orphaned_task(generation.submit_intent_at, submissions, provider)
        if task is None:
            await store.record(
                event.generation_id, status=Status.SUBMITTING, stage="synthesizer", submit_intent_at=now()
            )
            try:
                task = await provider.submit_synthesis(event.synthesis_image_url, event.template_id)
            except PermanentProviderError as exc:
                return await fail(store, event.generation_id, "synthesizer", exc.code, exc.message)
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


async def _orphaned_task(
    intent_at: datetime, submissions: Submissions, provider: VideoSynthesis
) -> SubmittedTask | None:
    """A job submitted after our intent that no generation owns is ours (submissions are serialized)."""
    listed = await provider.list_tasks(intent_at - CLOCK_SKEW, now() + CLOCK_SKEW, SYNTHESIS_MODEL)
    known = await submissions.known_task_ids([t.task_id for t in listed])
    orphans = sorted((t for t in listed if t.task_id not in known), key=lambda t: t.created_ms or 0)
    if not orphans:
        return None
    return SubmittedTask(orphans[-1].task_id, orphans[-1].status, request_id=None)
