"""cutout.pro's documented contract (shared/docs/dashscope.md, section 6; the provider's own page in
shared/seeds), checked against the emulator, or against the real cutout.pro when `CUTOUT_API_KEY` and
`CUTOUT_TEST_IMAGE_URL` (a public photo of a face) are set and `CI` is not: a job costs its template's
seconds of video and may take minutes."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from emulators.testing import make_photo
from emulators.testing.cutout import Files, serving, settings_in

REAL_BASE_URL = "https://www.cutout.pro"
API = "/api/v1/faceDriven"


@dataclass
class Target:
    client: httpx.AsyncClient
    prefix: str  # the API's path prefix on this target
    key: str
    image_url: str
    real: bool

    async def call(self, name: str, key: str | None = None, **params: str) -> httpx.Response:
        headers = {"APIKEY": self.key if key is None else key}
        return await self.client.get(f"{self.prefix}{API}/{name}", params=params, headers=headers)


def real_target() -> tuple[str, str] | None:
    key, image = os.environ.get("CUTOUT_API_KEY", ""), os.environ.get("CUTOUT_TEST_IMAGE_URL", "")
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return (key, image) if key and image and not in_ci else None


@pytest.fixture
async def target(tmp_path: Path, web: Files) -> AsyncIterator[Target]:
    real = real_target()
    if real is not None:
        async with httpx.AsyncClient(base_url=REAL_BASE_URL, timeout=60) as client:
            yield Target(client, "", real[0], real[1], real=True)
        return
    async with serving(settings_in(tmp_path / "data")) as client:
        yield Target(client, "/cutout", "contract-key", web.serve("face.png", make_photo()), real=False)


def is_envelope(body: object) -> bool:
    return isinstance(body, dict) and {"code", "data", "msg", "time"} <= body.keys()


async def test_a_submit_answers_a_task_id_that_finishes_with_a_video(target: Target) -> None:
    answer = await target.call("submitTaskByUrl", imageUrl=target.image_url, templateId="2")
    body = answer.json()
    assert is_envelope(body) and body["code"] == 0 and body["msg"] is None, body
    task_id = body["data"]
    assert isinstance(task_id, int)

    deadline = time.monotonic() + (900 if target.real else 30)
    while True:
        info = (await target.call("getTaskInfo", taskId=str(task_id))).json()
        assert is_envelope(info) and info["code"] == 0, info
        assert info["data"]["taskId"] == task_id and info["data"]["status"] in (0, 1, 2)
        if info["data"]["status"] != 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(10 if target.real else 0.1)
    assert info["data"]["status"] == 1, info
    assert info["data"]["resultUrl"].startswith(("http://", "https://"))


async def test_a_call_without_the_key_is_an_error_envelope(target: Target) -> None:
    answer = await target.call("submitTaskByUrl", key="", imageUrl=target.image_url, templateId="0")
    body = answer.json()
    assert is_envelope(body) and body["code"] != 0 and body["msg"]


async def test_a_template_outside_0_to_5_is_an_error_envelope(target: Target) -> None:
    answer = await target.call("submitTaskByUrl", imageUrl=target.image_url, templateId="9")
    body = answer.json()
    assert is_envelope(body) and body["code"] != 0 and body["msg"]
