"""Fetching a caller's input from its URL, as both providers do, within a time and size limit."""

from __future__ import annotations

import asyncio

import httpx

from emulators.errors import ProviderError, invalid_url


async def download(url: str, limit_seconds: float, max_bytes: int) -> bytes:
    """GET the input within the provider's download limit (10 s by default)."""
    try:
        async with (
            asyncio.timeout(limit_seconds),
            httpx.AsyncClient(timeout=limit_seconds) as client,
            client.stream("GET", url, follow_redirects=True) as response,
        ):
            if response.status_code != 200:
                raise invalid_url(f"download answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    break
            return b"".join(chunks)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise ProviderError(400, "InvalidURL.Timeout", f"Downloading the file timed out: {url}") from exc
    except httpx.ConnectError as exc:
        message = f"Connection refused while downloading the file: {url}"
        raise ProviderError(400, "InvalidURL.ConnectionRefused", message) from exc
    except httpx.HTTPError as exc:
        raise invalid_url(f"download failed: {exc.__class__.__name__}") from exc
