"""Fetch a model input by URL: an `oss://` file this account uploaded for this model, or http(s)."""

from __future__ import annotations

import asyncio

import httpx

from emulators.errors import ProviderError, invalid_parameter, invalid_url
from emulators.ids import AccountId
from emulators.store import Store


async def fetch_input(
    url: str,
    *,
    model: str,
    account: AccountId,
    oss_resolve: bool,
    store: Store,
    limit_seconds: float,
    max_bytes: int,
) -> bytes:
    if url.startswith("oss://"):
        return await _read_oss(url, model=model, account=account, oss_resolve=oss_resolve, store=store)
    if url.startswith(("http://", "https://")):
        return await download(url, limit_seconds, max_bytes)
    raise invalid_url("only http(s):// and oss:// URLs are supported")


async def _read_oss(url: str, *, model: str, account: AccountId, oss_resolve: bool, store: Store) -> bytes:
    if not oss_resolve:
        raise invalid_parameter(
            "The provided URL does not appear to be valid. Ensure it is correctly formatted."
        )
    obj = store.get_object(url.removeprefix("oss://"))
    if obj is None or obj.account != account:
        raise invalid_url("no such oss file for this account, or it has expired")
    if obj.model != model:
        raise invalid_url(f"the oss file was uploaded for model {obj.model}, not {model}")
    try:
        return await asyncio.to_thread(obj.path.read_bytes)
    except FileNotFoundError as exc:
        raise invalid_url("the oss file has expired") from exc


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
