"""A generation's terminal row, told as its public event: one mapping for every process that ends one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from common.db.models import Generation, Status
from common.events import FailedStage, GenerationCanceled, GenerationCompleted, GenerationFailed, PublicEvent


def timings(g: Generation) -> dict[str, float]:
    """Seconds per stage, from the row's timestamps; a stage that did not run is left out."""
    spans: list[tuple[str, datetime | None, datetime | None]] = [
        ("queued", g.created_at, g.upload_started_at),
        ("upload", g.upload_started_at, g.uploaded_at),
        ("detect", g.detect_started_at, g.detected_at),
        ("submit", g.submit_started_at, g.submitted_at),
        ("render", g.submitted_at, g.rendered_at),
        ("archive", g.archive_started_at, g.finished_at if g.status is Status.SUCCEEDED else None),
        ("total", g.created_at, g.finished_at),
    ]
    return {
        name: round((end - start).total_seconds(), 3)
        for name, start, end in spans
        if start is not None and end is not None
    }


def terminal_event(g: Generation, *, retryable: bool = False, **links: Any) -> PublicEvent:
    """The public fact of a generation that just ended; `links`: the video's, poster's (and GIF's) URLs."""
    common: dict[str, Any] = {
        "generation_id": g.id,
        "client_id": g.client_id,
        "template_id": g.template_id,
        "provider": g.provider,
        "timings": timings(g),
        "attempt": g.attempt or 0,  # None on a row not yet flushed
    }
    if g.status is Status.SUCCEEDED:
        return GenerationCompleted(
            **common,
            task_id=g.task_id or "",
            video_duration=g.video_duration,
            video_expires_at=g.video_expires_at,
            video_size_bytes=g.video_size_bytes,
            billed_seconds=g.billed_seconds,
            **links,
        )
    if g.status is Status.CANCELED:
        return GenerationCanceled(**common, task_id=g.task_id)
    return GenerationFailed(
        **common,
        stage=cast(FailedStage, g.stage),
        code=g.error_code or "Failed",
        message=g.error_message or "The generation failed.",
        status=g.status.value,
        retryable=retryable,
    )
