"""Fetch a model input by URL: an `oss://` file this account uploaded for this model, or http(s)."""

from __future__ import annotations

import asyncio

from emulators.dashscope.store import Store
from emulators.download import DownloadFailed, download
from emulators.errors import ProviderError, invalid_parameter, invalid_url
from emulators.ids import AccountId


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
        try:
            return await download(url, limit_seconds, max_bytes)
        except DownloadFailed as exc:
            raise _download_error(url, exc) from exc
    raise invalid_url("only http(s):// and oss:// URLs are supported")


def _download_error(url: str, failed: DownloadFailed) -> ProviderError:
    if failed.kind == "timeout":
        return ProviderError(400, "InvalidURL.Timeout", f"Downloading the file timed out: {url}")
    if failed.kind == "refused":
        return ProviderError(
            400, "InvalidURL.ConnectionRefused", f"Connection refused while downloading the file: {url}"
        )
    return invalid_url(failed.detail)


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
