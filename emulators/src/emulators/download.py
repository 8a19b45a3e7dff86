"""Fetching a caller's input from its URL, as both providers do, within a time and size limit."""

from __future__ import annotations

import asyncio
from typing import Literal

import httpx


class DownloadFailed(Exception):
    """The input could not be had: it `timeout`, the connection was `refused`, an HTTP `status` other
    than 200, or another transport `error`; `detail` says which in words."""

    def __init__(self, kind: Literal["timeout", "refused", "status", "error"], detail: str) -> None:
        super().__init__(detail)
        self.kind, self.detail = kind, detail


async def download(url: str, limit_seconds: float, max_bytes: int) -> bytes:
    """GET the input within the provider's download limit; past `max_bytes` the rest is not read."""
    try:
        async with (
            asyncio.timeout(limit_seconds),
            httpx.AsyncClient(timeout=limit_seconds) as client,
            client.stream("GET", url, follow_redirects=True) as response,
        ):
            if response.status_code != 200:
                raise DownloadFailed("status", f"download answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    break
            return b"".join(chunks)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise DownloadFailed("timeout", f"download timed out after {limit_seconds:g} s") from exc
    except httpx.ConnectError as exc:
        raise DownloadFailed("refused", "the connection was refused") from exc
    except httpx.HTTPError as exc:
        raise DownloadFailed("error", f"download failed: {exc.__class__.__name__}") from exc
