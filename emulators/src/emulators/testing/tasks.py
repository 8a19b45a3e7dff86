"""Submit a synthesis and follow its task the way a polite client does (backing off on 429)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from emulators.testing.client import upload_photo
from emulators.testing.media import make_photo

SYNTHESIS_MODEL = "animate-anyone-gen2"
SUBMIT_PATH = "/api/v1/services/aigc/image2video/video-synthesis/"
STOCK_TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
ASYNC = {"X-DashScope-Async": "enable", "X-DashScope-OssResourceResolve": "enable"}
FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"})


def synthesis_body(image_url: str, template_id: str = STOCK_TEMPLATE, **parameters: Any) -> dict[str, Any]:
    return {
        "model": SYNTHESIS_MODEL,
        "input": {"image_url": image_url, "template_id": template_id},
        "parameters": {"use_ref_img_bg": False, "video_ratio": "9:16"} | parameters,
    }


async def submit_synthesis(
    client: httpx.AsyncClient,
    photo: bytes | None = None,
    template_id: str = STOCK_TEMPLATE,
    **parameters: Any,
) -> str:
    """Upload the photo for the synthesis model, submit it, return the PENDING task's id."""
    url = await upload_photo(client, photo or make_photo(), model=SYNTHESIS_MODEL)
    body = synthesis_body(url, template_id, **parameters)
    response = await retry_throttled(lambda: client.post(SUBMIT_PATH, json=body, headers=ASYNC))
    assert response.status_code == 200, response.text
    assert response.json()["output"]["task_status"] == "PENDING"
    task_id: str = response.json()["output"]["task_id"]
    return task_id


async def query_task(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    response = await retry_throttled(lambda: client.get(f"/api/v1/tasks/{task_id}"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_for_task(
    client: httpx.AsyncClient,
    task_id: str,
    statuses: set[str] | frozenset[str] = FINAL_STATUSES,
    *,
    within: float = 15,
    interval: float = 0.05,
) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        body = await query_task(client, task_id)
        if body["output"]["task_status"] in statuses:
            return body
        await asyncio.sleep(interval)
    raise AssertionError(f"task {task_id} never reached {sorted(statuses)}")


async def retry_throttled(call: Any, attempts: int = 20) -> httpx.Response:
    for _ in range(attempts):
        response: httpx.Response = await call()
        if response.status_code != 429:
            return response
        await asyncio.sleep(0.1)
    return response
