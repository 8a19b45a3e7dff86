"""On ImageUploaded: ask the provider whether the photo suits Animate Anyone."""

from __future__ import annotations

from common.db.generations import GenerationStore, fail, now
from common.db.models import TERMINAL, Status
from common.events import Event, ImageAccepted, ImageUploaded
from common.providers.errors import PermanentProviderError

from detector.ports import PersonDetector

REJECTED = "ImageRejected"


async def detect_person(
    event: ImageUploaded, store: GenerationStore, detector: PersonDetector
) -> Event | None:
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
        detection = await detector.detect(event.detect_image_url)
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
        check_pass=detection.check_pass,
        bodystyle=detection.bodystyle or None,
        detect_reason=detection.reason,
        detect_request_id=detection.request_id,
        detected_at=now(),
    )
    if not detection.check_pass:
        await fail(store, event.generation_id, "detector", REJECTED, detection.reason)
        return None
    return _accepted(event, detection.bodystyle)


def _accepted(event: ImageUploaded, bodystyle: str) -> ImageAccepted:
    return ImageAccepted(
        generation_id=event.generation_id,
        template_id=event.template_id,
        synthesis_image_url=event.synthesis_image_url,
        bodystyle=bodystyle,
    )
