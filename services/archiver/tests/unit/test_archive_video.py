"""The archiver's use case with in-memory stores: what a generation ends as, and what is announced."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import pytest
from archiver.archive_video import Policy, archive_video
from archiver.download import VideoLinkDead, VideoTooLarge
from archiver.inspect import InvalidVideo, inspect_video
from common.db.models import Generation, Status
from common.events import GenerationCompleted, GenerationFailed, VideoRendered
from common.fakes import FakeGenerationStore, generation
from common.providers.errors import RetryableProviderError
from emulators.testing.media import first_half, make_clip

CLIP = make_clip(seconds=2.0, fps=12)
POLICY = Policy(retention_seconds=3600, max_video_bytes=10**7, max_video_seconds=60)


class FakeDownloads:
    def __init__(self, outcome: bytes | Exception) -> None:
        self.outcome = outcome

    async def download(self, url: str, destination: Path, max_bytes: int) -> int:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        destination.write_bytes(self.outcome)  # noqa: ASYNC240
        return len(self.outcome)


class FakeMedia:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        self.objects[key] = (path.read_bytes(), content_type)  # noqa: ASYNC240

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (data, content_type)


def _link(key: str, expires_at: datetime | None) -> str:
    return f"https://media.test/{key}?expires={int(expires_at.timestamp()) if expires_at else 0}"


def _rendered(generation_id: uuid.UUID) -> VideoRendered:
    return VideoRendered(generation_id=generation_id, task_id="t-1", provider_video_url="https://oss/v.mp4")


async def _archive(
    outcome: bytes | Exception, status: Status = Status.ARCHIVING
) -> tuple[Generation, FakeGenerationStore, FakeMedia]:
    g = generation(status, task_id="t-1")
    store, media = FakeGenerationStore(g), FakeMedia()
    await archive_video(_rendered(g.id), store, FakeDownloads(outcome), media, POLICY, _link)
    return g, store, media


async def test_a_rendered_video_is_stored_with_its_poster_before_success_is_announced() -> None:
    g, store, media = await _archive(CLIP)
    assert media.objects[f"videos/{g.id}.mp4"] == (CLIP, "video/mp4")
    poster, poster_type = media.objects[f"posters/{g.id}.jpg"]
    assert poster.startswith(b"\xff\xd8") and poster_type == "image/jpeg"
    assert g.status is Status.SUCCEEDED and g.video_size_bytes == len(CLIP)
    assert g.video_duration == pytest.approx(2.0, abs=0.2) and g.video_expires_at is not None
    [event] = store.outbox
    assert isinstance(event, GenerationCompleted)
    assert event.video_url == _link(f"videos/{g.id}.mp4", g.video_expires_at)
    assert event.poster_url == _link(f"posters/{g.id}.jpg", g.video_expires_at)
    assert event.video_expires_at == g.video_expires_at and event.task_id == "t-1"


async def test_a_dead_provider_link_ends_the_generation_as_expired_not_hanging() -> None:
    g, store, media = await _archive(VideoLinkDead("VideoLinkExpired", "gone", status=403))
    assert g.status is Status.EXPIRED and g.error_code == "VideoLinkExpired" and media.objects == {}
    [event] = store.outbox
    assert isinstance(event, GenerationFailed) and event.status == "EXPIRED" and event.retryable


@pytest.mark.parametrize(
    "outcome, code",
    [(first_half(CLIP), "InvalidVideo"), (b"<html>not a video</html>", "InvalidVideo")],
)
async def test_a_file_that_is_no_playable_video_fails_instead_of_being_vouched_for(
    outcome: bytes, code: str
) -> None:
    g, store, media = await _archive(outcome)
    assert g.status is Status.FAILED and g.error_code == code and media.objects == {}
    [event] = store.outbox
    assert isinstance(event, GenerationFailed) and event.stage == "archiver"


async def test_an_oversized_video_fails_with_its_reason() -> None:
    g, _, _ = await _archive(VideoTooLarge("VideoTooLarge", "too big"))
    assert (g.status, g.error_code) == (Status.FAILED, "VideoTooLarge")


async def test_a_flaky_file_server_is_left_to_the_stage_to_retry() -> None:
    with pytest.raises(RetryableProviderError):
        await _archive(RetryableProviderError("VideoDownloadFailed", "503", status=503))


async def test_a_canceled_generation_is_not_archived() -> None:
    g, store, media = await _archive(CLIP, status=Status.CANCELED)
    assert g.status is Status.CANCELED and media.objects == {} and store.outbox == []


def test_inspect_reads_duration_size_and_makes_a_poster(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    path.write_bytes(CLIP)
    inspected = inspect_video(path, max_seconds=60)
    assert (inspected.width, inspected.height) == (256, 384) and inspected.frames == 24
    with pytest.raises(InvalidVideo, match="longer than"):
        inspect_video(path, max_seconds=1)


class UrlDownloads:
    """A provider's files by URL: the MP4 and the GIF of a job."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    async def download(self, url: str, destination: Path, max_bytes: int) -> int:
        destination.write_bytes(self.files[url])  # noqa: ASYNC240
        return len(self.files[url])


def _gif() -> bytes:
    import io

    from PIL import Image

    frames = [Image.new("RGB", (32, 32), (i * 60, 90, 160)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


async def test_a_gif_asked_for_is_stored_and_announced_with_the_video() -> None:
    g = generation(Status.ARCHIVING, task_id="t-1", output_format="gif", billed_seconds=3.13)
    store, media, gif = FakeGenerationStore(g), FakeMedia(), _gif()
    rendered = VideoRendered(
        generation_id=g.id,
        task_id="t-1",
        provider_video_url="https://p/v.mp4",
        provider_gif_url="https://p/v.gif",
    )
    downloads = UrlDownloads({"https://p/v.mp4": CLIP, "https://p/v.gif": gif})
    await archive_video(rendered, store, downloads, media, POLICY, _link)
    assert media.objects[f"gifs/{g.id}.gif"] == (gif, "image/gif")
    assert g.status is Status.SUCCEEDED and g.gif_key == f"gifs/{g.id}.gif"
    [event] = store.outbox
    assert isinstance(event, GenerationCompleted) and event.billed_seconds == 3.13
    assert event.gif_url is not None and event.gif_url.startswith(f"https://media.test/gifs/{g.id}.gif")


async def test_a_gif_that_is_no_gif_fails_the_generation_as_an_unusable_result() -> None:
    g = generation(Status.ARCHIVING, task_id="t-1", output_format="gif")
    store = FakeGenerationStore(g)
    rendered = VideoRendered(
        generation_id=g.id,
        task_id="t-1",
        provider_video_url="https://p/v.mp4",
        provider_gif_url="https://p/v.gif",
    )
    downloads = UrlDownloads({"https://p/v.mp4": CLIP, "https://p/v.gif": b"<html>not found</html>"})
    await archive_video(rendered, store, downloads, FakeMedia(), POLICY, _link)
    assert (g.status, g.error_code) == (Status.FAILED, "InvalidVideo")
