"""On VideoRendered: copy the provider's video into the media store, check it, make its poster, and
only then end the generation as SUCCEEDED with the product's own links.

Idempotent: the keys are the generation's, so a redelivered event rewrites the same objects; a
generation that already ended is left alone. A dead provider link ends the generation as EXPIRED
(the client may try again); a file that is no video ends it as FAILED.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from common.db.generations import GenerationStore, now
from common.db.models import Status
from common.events import Event, VideoRendered

from archiver.download import VideoLinkDead, VideoTooLarge
from archiver.inspect import InvalidVideo, inspect_video
from archiver.ports import MediaFiles, VideoDownloads

STAGE = "archiver"


@dataclass(frozen=True)
class Policy:
    retention_seconds: float  # 0: kept forever
    max_video_bytes: int
    max_video_seconds: float


def video_key(generation_id: object) -> str:
    return f"videos/{generation_id}.mp4"


def poster_key(generation_id: object) -> str:
    return f"posters/{generation_id}.jpg"


def gif_key(generation_id: object) -> str:
    return f"gifs/{generation_id}.gif"


def is_gif(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(6) in (b"GIF87a", b"GIF89a")


async def archive_video(
    event: VideoRendered,
    store: GenerationStore,
    downloads: VideoDownloads,
    media: MediaFiles,
    policy: Policy,
    link: Callable[[str, datetime | None], str],
) -> Event | None:
    generation = await store.load(event.generation_id)
    if generation is None or generation.status is not Status.ARCHIVING:
        return None  # ended meanwhile (e.g. canceled), or not ours yet
    if generation.archive_started_at is None:
        await store.record(event.generation_id, archive_started_at=now())
    with tempfile.TemporaryDirectory(prefix="archiver-") as folder:
        path = Path(folder) / "video.mp4"
        try:
            size = await downloads.download(event.provider_video_url, path, policy.max_video_bytes)
            inspected = await asyncio.to_thread(inspect_video, path, policy.max_video_seconds)
            gif_path = Path(folder) / "video.gif" if event.provider_gif_url else None
            if event.provider_gif_url and gif_path:
                await downloads.download(event.provider_gif_url, gif_path, policy.max_video_bytes)
                if not is_gif(gif_path):
                    raise InvalidVideo("the GIF the provider made is no GIF")
        except VideoLinkDead as exc:
            await _without_video(store, event, Status.EXPIRED, exc.code, exc.message)
            return None
        except VideoTooLarge as exc:
            await _without_video(store, event, Status.FAILED, exc.code, exc.message)
            return None
        except InvalidVideo as exc:
            message = f"The provider's video is unusable: {exc}."
            await _without_video(store, event, Status.FAILED, "InvalidVideo", message)
            return None
        video, poster = video_key(event.generation_id), poster_key(event.generation_id)
        await media.put_file(video, path, "video/mp4")
        await media.put_bytes(poster, inspected.poster_jpeg, "image/jpeg")
        gif = None
        if gif_path is not None:
            gif = gif_key(event.generation_id)
            await media.put_file(gif, gif_path, "image/gif")
    expires_at = now() + timedelta(seconds=policy.retention_seconds) if policy.retention_seconds else None
    links = {"video_url": link(video, expires_at), "poster_url": link(poster, expires_at)}
    if gif is not None:
        links["gif_url"] = link(gif, expires_at)
    await store.end(
        event.generation_id,
        Status.SUCCEEDED,
        STAGE,
        links=links,
        video_key=video,
        poster_key=poster,
        gif_key=gif,
        video_size_bytes=size,
        video_duration=inspected.duration_seconds,
        video_expires_at=expires_at,
    )
    return None


async def _without_video(
    store: GenerationStore, event: VideoRendered, status: Status, code: str, message: str
) -> None:
    """End the generation without a video; a new request may well succeed (`retryable`)."""
    await store.end(
        event.generation_id, status, STAGE, retryable=True, error_code=code, error_message=message
    )
