"""Fetch the provider's video to a local file, streamed and capped, never whole in memory."""

from __future__ import annotations

from pathlib import Path

import httpx
from common.providers.errors import PermanentProviderError, RetryableProviderError

CHUNK_BYTES = 1024 * 1024
DEAD_LINK = frozenset({401, 403, 404, 410})  # an expired OSS signature answers 403


class VideoLinkDead(PermanentProviderError):
    """The provider's link no longer gives the video (its signature expired, or the file is gone)."""


class VideoTooLarge(PermanentProviderError):
    """The provider's file is larger than the product keeps."""


class HttpVideoDownloads:
    def __init__(self, http: httpx.AsyncClient, timeout_seconds: float) -> None:
        self._http = http
        self._timeout = httpx.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds))

    async def download(self, url: str, destination: Path, max_bytes: int) -> int:
        """Write the video at `url` to `destination`; returns its size in bytes."""
        try:
            async with self._http.stream("GET", url, follow_redirects=True, timeout=self._timeout) as answer:
                if answer.status_code in DEAD_LINK:
                    raise VideoLinkDead(
                        "VideoLinkExpired", _dead(answer.status_code), status=answer.status_code
                    )
                if answer.status_code >= 400:
                    raise RetryableProviderError(
                        "VideoDownloadFailed",
                        f"The provider's file server answered {answer.status_code}.",
                        status=answer.status_code,
                    )
                declared = int(answer.headers.get("content-length") or 0)
                if declared > max_bytes:
                    raise _too_large(max_bytes)
                size = 0
                with destination.open("wb") as out:
                    async for chunk in answer.aiter_bytes(CHUNK_BYTES):
                        size += len(chunk)
                        if size > max_bytes:
                            raise _too_large(max_bytes)
                        out.write(chunk)
                return size
        except httpx.HTTPError as exc:  # timeouts, refused connections, broken transfers
            raise RetryableProviderError(
                "VideoDownloadFailed", f"Could not fetch the provider's video: {type(exc).__name__}."
            ) from exc


def _dead(status: int) -> str:
    return (
        f"The provider's link to the video no longer works (HTTP {status}): it expired before the video "
        "could be saved. Please create the video again."
    )


def _too_large(max_bytes: int) -> VideoTooLarge:
    return VideoTooLarge("VideoTooLarge", f"The provider's video is larger than {max_bytes / 2**20:g} MB.")
