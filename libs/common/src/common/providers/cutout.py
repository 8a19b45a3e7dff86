"""An async client for cutout.pro's Photo Animer API (shared/docs/dashscope.md, section 6).

Every answer is an envelope `{"code": 0, "data": ..., "msg": null, "time": <ms>}`; `code != 0` is an
error with `msg`. cutout.pro documents neither its error codes nor its rate limits, so: HTTP 429 and
5xx, timeouts, connection errors and an answer that is no envelope are retryable; HTTP 401/403 (a bad
key) is the operator's to fix; any other error is permanent, with cutout.pro's code and message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pydantic import SecretStr

from common.providers import http_calls
from common.providers.errors import (
    PermanentProviderError,
    ProviderConfigurationError,
    ProviderError,
    RetryableProviderError,
)

PROVIDER = "cutout"  # the `provider` label of the provider call metrics
# Waits until the account may make one more call counted by the named quota ("submit", "task_query").
Pace = Callable[[str], Awaitable[None]]


class CutoutClient:
    """One method per API call, each tried once (the stages schedule retries)."""

    def __init__(
        self, http: httpx.AsyncClient, api_key: SecretStr, base_url: str, *, pace: Pace | None = None
    ) -> None:
        self._http = http
        self._key = api_key
        self._base = base_url.rstrip("/")
        self._pace = pace

    async def submit(self, image_url: str, template: str, *, gif: bool = False) -> str:
        """Start a job animating the photo at `image_url` with template `template` ("0".."5"): its id."""
        params = {"imageUrl": image_url, "templateId": template}
        if gif:
            params["outputFormat"] = "gif"
        task_id = await self._call("submit", "/faceDriven/submitTaskByUrl", params)
        if isinstance(task_id, bool) or not isinstance(task_id, int | str) or not str(task_id):
            raise RetryableProviderError("InvalidResponse", f"cutout.pro answered no task id: {task_id!r}")
        return str(task_id)

    async def task_info(self, task_id: str) -> dict[str, Any]:
        """`{taskId, status, resultUrl, gifUrl?}`: status 0 processing, 1 finished, 2 failed."""
        data = await self._call("task_query", "/faceDriven/getTaskInfo", {"taskId": task_id})
        if not isinstance(data, dict):
            raise RetryableProviderError("InvalidResponse", f"cutout.pro answered no task: {data!r}")
        return data

    async def _call(self, endpoint: str, path: str, params: dict[str, str]) -> Any:
        if self._pace:
            await self._pace(endpoint)
        headers = {"APIKEY": self._key.get_secret_value()}
        response = await http_calls.request(
            self._http, PROVIDER, endpoint, "GET", f"{self._base}{path}", params=params, headers=headers
        )
        envelope = _envelope(response)
        if not response.is_success or envelope is None or envelope.get("code") != 0:
            raise _error(response, envelope)
        return envelope.get("data")


def _envelope(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and "code" in body else None


def _error(response: httpx.Response, envelope: dict[str, Any] | None) -> ProviderError:
    status = response.status_code
    code = f"Cutout.{envelope.get('code')}" if envelope else f"HTTP{status}"
    message = str((envelope or {}).get("msg") or response.text[:300] or response.reason_phrase)
    if status == 429 or status >= 500:
        return RetryableProviderError(
            code, message, status=status, retry_after=http_calls.retry_after(response)
        )
    if status in (401, 403):
        return ProviderConfigurationError(code, message, status=status)
    if envelope is None:  # a 2xx that is no envelope: cutout.pro misbehaving, not our input
        return RetryableProviderError("InvalidResponse", f"cutout.pro answered no envelope: {message}")
    return PermanentProviderError(code, message, status=status)
