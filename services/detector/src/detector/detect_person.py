"""On ImageUploaded: ask the generation's provider whether it can animate the photo."""

from __future__ import annotations

from collections.abc import Mapping

from common.db.generations import GenerationStore, fail, now
from common.db.models import TERMINAL, Status
from common.events import Event, ImageAccepted, ImageUploaded
from common.providers.errors import PermanentProviderError
from common.providers.ports import PhotoCheck

REJECTED = "ImageRejected"


async def detect_person(
    event: ImageUploaded, store: GenerationStore, checks: Mapping[str, PhotoCheck]
) -> Event | None:
    """`checks`: each provider's photo check, by name."""
    generation = await store.load(event.generation_id)
    if generation is None or generation.status in TERMINAL:
        return None
    if generation.check_pass:
        # Redelivered: the photo already passed; announce it again without a new (billed) check.
        return _accepted(event, generation.bodystyle or "")
    await store.record(
        event.generation_id, status=Status.DETECTING, stage="detector", detect_started_at=now()
    )

    try:
        verdict = await checks[generation.provider].check(event.check_image_url)
    except PermanentProviderError as exc:
        # Some rejections come as HTTP 400 (InvalidFile.*): the same outcome as check_pass false.
        await store.record(
            event.generation_id,
            check_pass=False,
            detect_reason=exc.message,
            detect_request_id=exc.request_id,
            detected_at=now(),
        )
        await fail(store, event.generation_id, "detector", exc.code, exc.message)
        return None

    await store.record(
        event.generation_id,
        check_pass=verdict.passed,
        bodystyle=verdict.bodystyle,
        detect_reason=verdict.reason,
        detect_request_id=verdict.request_id,
        detected_at=now(),
    )
    if not verdict.passed:
        await fail(store, event.generation_id, "detector", REJECTED, verdict.reason)
        return None
    return _accepted(event, verdict.bodystyle or "")


def _accepted(event: ImageUploaded, bodystyle: str) -> ImageAccepted:
    return ImageAccepted(
        generation_id=event.generation_id,
        template_id=event.template_id,
        job_image_url=event.job_image_url,
        bodystyle=bodystyle,
    )
