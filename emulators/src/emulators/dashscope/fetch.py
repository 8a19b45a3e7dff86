"""Fetch a model input by URL: an `oss://` file this account uploaded for this model, or http(s)."""

from __future__ import annotations

import asyncio

from emulators.dashscope.store import Store
from emulators.download import download
from emulators.errors import invalid_parameter, invalid_url
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
