from pathlib import Path
from typing import Protocol


class VideoDownloads(Protocol):
    async def download(self, url: str, destination: Path, max_bytes: int) -> int:
        """Write the video to `destination` and return its size; raises VideoLinkDead, VideoTooLarge,
        or RetryableProviderError (try again later)."""
        ...


class MediaFiles(Protocol):
    """The part of the media store the archiver uses."""

    async def put_file(self, key: str, path: Path, content_type: str) -> None: ...

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...


class MediaDeletes(Protocol):
    async def delete(self, key: str) -> None: ...
