"""On ImageAccepted: submit the paid video job, at most once per generation."""

from __future__ import annotations

from common.db.generations import GenerationStore, fail, now
from common.db.models import TERMINAL, Status
from common.events import Event, ImageAccepted, SynthesisSubmitted
from common.providers.errors import ProviderError

from synthesizer.ports import VideoSynthesis


async def submit_synthesis(
    event: ImageAccepted, store: GenerationStore, provider: VideoSynthesis
) -> Event | None:
    generation = await store.load(event.generation_id)
    if generation is None or generation.status in TERMINAL:
        return None
    if generation.task_id:
        # Redelivered: the job exists; announce it again, never submit a second paid job.
        return SynthesisSubmitted(generation_id=event.generation_id, task_id=generation.task_id)
    await store.record(event.generation_id, status=Status.SUBMITTING, stage="synthesizer")

    try:
        task = await provider.submit_synthesis(event.synthesis_image_url, event.template_id)
    except ProviderError as exc:
        return await fail(store, event.generation_id, "synthesizer", exc.code, exc.message)

    await store.record(
        event.generation_id,
        status=Status.PENDING,
        task_id=task.task_id,
        task_status=task.task_status,
        submit_request_id=task.request_id,
        submitted_at=now(),
    )
    return SynthesisSubmitted(generation_id=event.generation_id, task_id=task.task_id)
