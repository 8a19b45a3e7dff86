"""An async client for DashScope's Animate Anyone APIs (see docs/dashscope.md)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
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

DETECT_MODEL = "animate-anyone-detect-gen2"
SYNTHESIS_MODEL = "animate-anyone-gen2"
TERMINAL_TASK_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"})
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # the zone of DashScope's task times
PROVIDER = "dashscope"  # the `provider` label of the provider call metrics
# Waits until the account may make one more call counted by the named quota ("detect", "submit").
Pace = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Uploaded:
    url: str  # oss://<key>, readable only by `model`
    model: str


@dataclass(frozen=True)
class Detection:
    check_pass: bool
    bodystyle: str
    reason: str
    request_id: str | None


@dataclass(frozen=True)
class SubmittedTask:
    task_id: str
    task_status: str
    request_id: str | None


@dataclass(frozen=True)
class TaskInfo:
    task_id: str
    task_status: str
    request_id: str | None
    video_url: str | None = None
    video_duration: float | None = None
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class ListedTask:
    task_id: str
    status: str
    model_name: str | None
    created_ms: int | None


@dataclass(frozen=True)
class _Policy:
    data: dict[str, Any]
    expires_at: float


def _error(response: httpx.Response) -> ProviderError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("code") or f"HTTP{response.status_code}")
    message = str(body.get("message") or body.get("msg") or response.text[:500] or response.reason_phrase)
    kwargs: dict[str, Any] = {"status": response.status_code, "request_id": body.get("request_id")}
    if response.status_code == 429 or response.status_code >= 500:
        return RetryableProviderError(code, message, retry_after=http_calls.retry_after(response), **kwargs)
    if response.status_code in (401, 403):
        return ProviderConfigurationError(code, message, **kwargs)
    return PermanentProviderError(code, message, **kwargs)


class DashScopeClient:
    """One method per provider call; retryable failures are retried a few times with backoff."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_key: SecretStr,
        base_url: str,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.5,
        pace: Pace | None = None,
    ) -> None:
        self._http = http
        self._key = api_key
        self._base = base_url.rstrip("/")
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._policies: dict[str, _Policy] = {}
        self._pace = pace

    async def upload(self, model: str, file_name: str, data: bytes, content_type: str) -> Uploaded:
        """Put a file in the provider's temporary storage for `model` (48 h, that model only)."""
        policy = await self._policy(model)
        key = f"{policy['upload_dir']}/{uuid.uuid4().hex}-{file_name}"
        form = {
            "OSSAccessKeyId": policy["oss_access_key_id"],
            "Signature": policy["signature"],
            "policy": policy["policy"],
            "key": key,
            "x-oss-object-acl": policy["x_oss_object_acl"],
            "x-oss-forbid-overwrite": policy["x_oss_forbid_overwrite"],
            "success_action_status": "200",
        }
        files = {"file": (file_name, data, content_type)}
        await self._call("upload", "POST", policy["upload_host"], data=form, files=files, auth=False)
        return Uploaded(url=f"oss://{key}", model=model)

    async def detect(self, image_url: str) -> Detection:
        body = {"model": DETECT_MODEL, "input": {"image_url": image_url}, "parameters": {}}
        answer = await self._call(
            "detect", "POST", "/services/aigc/image2video/aa-detect", json=body, url=image_url, quota="detect"
        )
        output = answer.get("output", {})
        return Detection(
            check_pass=bool(output.get("check_pass")),
            bodystyle=str(output.get("bodystyle") or ""),
            reason=str(output.get("reason") or ""),
            request_id=answer.get("request_id"),
        )

    async def submit_synthesis(
        self, image_url: str, template_id: str, *, use_ref_img_bg: bool = False, video_ratio: str = "9:16"
    ) -> SubmittedTask:
        body = {
            "model": SYNTHESIS_MODEL,
            "input": {"image_url": image_url, "template_id": template_id},
            "parameters": {"use_ref_img_bg": use_ref_img_bg, "video_ratio": video_ratio},
        }
        answer = await self._call(
            "submit",
            "POST",
            "/services/aigc/image2video/video-synthesis/",
            json=body,
            url=image_url,
            async_=True,
            quota="submit",
        )
        output = answer["output"]
        return SubmittedTask(output["task_id"], output["task_status"], answer.get("request_id"))

    async def get_task(self, task_id: str) -> TaskInfo:
        answer = await self._call("task_query", "GET", f"/tasks/{task_id}")
        output = answer.get("output", {})
        usage = answer.get("usage") or {}
        duration = usage.get("video_duration")
        return TaskInfo(
            task_id=task_id,
            task_status=str(output.get("task_status", "UNKNOWN")),
            request_id=answer.get("request_id"),
            video_url=output.get("video_url"),
            video_duration=float(duration) if duration is not None else None,
            code=output.get("code"),
            message=output.get("message"),
        )

    async def cancel_task(self, task_id: str) -> None:
        await self._call("task_cancel", "POST", f"/tasks/{task_id}/cancel")

    async def list_tasks(self, start: datetime, end: datetime, model_name: str) -> list[ListedTask]:
        """Every task of this account and model created between `start` and `end` (all pages)."""
        params: dict[str, Any] = {
            "start_time": start.astimezone(BEIJING).strftime("%Y%m%d%H%M%S"),
            "end_time": end.astimezone(BEIJING).strftime("%Y%m%d%H%M%S"),
            "model_name": model_name,
            "page_size": 100,
        }
        tasks: list[ListedTask] = []
        page = 1
        while True:
            answer = await self._call("task_list", "GET", "/tasks", params={**params, "page_no": page})
            for item in answer.get("data") or []:
                created = item.get("gmt_create")
                tasks.append(
                    ListedTask(
                        str(item["task_id"]),
                        str(item.get("status", "")),
                        item.get("model_name"),
                        int(created) if created is not None else None,
                    )
                )
            if page >= int(answer.get("total_page") or 1):
                return tasks
            page += 1

    async def _policy(self, model: str) -> dict[str, Any]:
        cached = self._policies.get(model)
        if cached and cached.expires_at > time.monotonic():
            return cached.data
        answer = await self._call(
            "upload_policy", "GET", "/uploads", params={"action": "getPolicy", "model": model}
        )
        data: dict[str, Any] = answer["data"]
        lifetime = float(data.get("expire_in_seconds", 300))
        self._policies[model] = _Policy(data, time.monotonic() + lifetime * 0.8)
        return data

    async def _call(
        self,
        endpoint: str,  # the call's name in the metrics (never its path: task ids would be labels)
        method: str,
        path: str,
        *,
        url: str | None = None,
        async_: bool = False,
        auth: bool = True,
        quota: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        if auth:
            headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"
        if async_:
            headers["X-DashScope-Async"] = "enable"
        if url and url.startswith("oss://"):
            headers["X-DashScope-OssResourceResolve"] = "enable"
        target = path if path.startswith("http") else f"{self._base}{path}"
        for attempt in range(1, self._attempts + 1):
            if quota and self._pace:
                await self._pace(quota)
            error: ProviderError
            try:
                response = await http_calls.request(
                    self._http, PROVIDER, endpoint, method, target, headers=headers, **kwargs
                )
                if response.is_success:
                    return response.json() if response.content else {}
                error = _error(response)
            except RetryableProviderError as exc:  # no answer at all
                error = exc
            if not isinstance(error, RetryableProviderError) or attempt == self._attempts:
                raise error
            delay = error.retry_after or self._backoff * 2 ** (attempt - 1)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")
