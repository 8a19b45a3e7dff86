"""cutout.pro's documented contract (shared/docs/dashscope.md, section 6; the provider's own page in
shared/seeds), checked against the emulator, or against the real cutout.pro when `CUTOUT_API_KEY` is set
and `CI` is not. Against the real one, a job costs its template's seconds of video and may take minutes;
`CUTOUT_TEST_IMAGE_URL` (a public photo of a face) and `CUTOUT_TEST_NO_FACE_URL` (a public picture without
one) are needed by the tests that submit jobs, which are skipped without them."""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from emulators.testing import flat_photo, make_photo
from emulators.testing.cutout import Files, serving, settings_in
from PIL import Image

REAL_BASE_URL = "https://www.cutout.pro"
API = "/api/v1/faceDriven"


@dataclass
class Target:
    client: httpx.AsyncClient
    prefix: str  # the API's path prefix on this target
    key: str
    real: bool
    face_url: str | None
    no_face_url: str | None

    async def call(self, name: str, key: str | None = None, **params: Any) -> dict[str, Any]:
        headers = {"APIKEY": self.key if key is None else key}
        answer = await self.client.get(f"{self.prefix}{API}/{name}", params=params, headers=headers)
        body: dict[str, Any] = answer.json()
        assert isinstance(body, dict) and {"code", "data", "msg", "time"} <= body.keys(), body
        assert isinstance(body["time"], int) and abs(body["time"] / 1000 - time.time()) < 600, body
        return body

    async def download(self, url: str) -> bytes:
        if self.real:
            async with httpx.AsyncClient(timeout=120, follow_redirects=True) as plain:
                return (await plain.get(url)).raise_for_status().content
        return (await self.client.get(url)).raise_for_status().content

    def needs(self, url: str | None, variable: str) -> str:
        return url if url is not None else pytest.skip(f"needs {variable}")


def real_key() -> str | None:
    key = os.environ.get("CUTOUT_API_KEY", "")
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return key if key and not in_ci else None


@pytest.fixture
async def target(tmp_path: Path, web: Files) -> AsyncIterator[Target]:
    key = real_key()
    if key is not None:
        face, no_face = os.environ.get("CUTOUT_TEST_IMAGE_URL"), os.environ.get("CUTOUT_TEST_NO_FACE_URL")
        async with httpx.AsyncClient(base_url=REAL_BASE_URL, timeout=60) as client:
            yield Target(client, "", key, True, face, no_face)
        return
    face, no_face = web.serve("face.png", make_photo()), web.serve("flat.png", flat_photo())
    # One configured account, so that (as at cutout.pro) a key nobody has is refused.
    settings = settings_in(tmp_path / "data", accounts='{"contract": ["contract-key"]}')
    async with serving(settings) as client:
        yield Target(client, "/cutout", "contract-key", False, face, no_face)


async def wait(target: Target, task_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + (900 if target.real else 30)
    while True:
        body = await target.call("getTaskInfo", taskId=task_id)
        assert body["code"] == 0 and body["msg"] is None, body
        data: dict[str, Any] = body["data"]
        assert data["taskId"] == task_id and data["status"] in (0, 1, 2), data
        if data["status"] != 0 or time.monotonic() > deadline:
            return data
        await asyncio.sleep(10 if target.real else 0.05)


async def test_a_photo_becomes_an_mp4_and_a_gif_of_the_templates_clip_length(target: Target) -> None:
    photo = target.needs(target.face_url, "CUTOUT_TEST_IMAGE_URL")
    body = await target.call("submitTaskByUrl", imageUrl=photo, templateId=2, outputFormat="gif")
    assert body["code"] == 0 and body["msg"] is None and isinstance(body["data"], int), body

    data = await wait(target, body["data"])

    assert data["status"] == 1, data
    with av.open(io.BytesIO(await target.download(data["resultUrl"]))) as video:
        stream = video.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        assert float(stream.duration * stream.time_base) == pytest.approx(2.13, abs=0.1)
        assert sum(1 for _ in video.decode(stream)) > 10
    with Image.open(io.BytesIO(await target.download(data["gifUrl"]))) as gif:
        assert gif.format == "GIF" and gif.n_frames > 1


async def test_a_picture_without_a_face_fails_its_job(target: Target) -> None:
    picture = target.needs(target.no_face_url, "CUTOUT_TEST_NO_FACE_URL")
    body = await target.call("submitTaskByUrl", imageUrl=picture, templateId=0)
    if body["code"] != 0:  # refused at the door is as good as a failed job
        assert body["msg"], body
        return
    data = await wait(target, body["data"])
    assert data["status"] == 2 and not data.get("resultUrl"), data


@pytest.mark.parametrize("key", ["", "not-a-key-of-anyone"])
async def test_a_call_without_a_valid_key_is_an_error(target: Target, key: str) -> None:
    body = await target.call("submitTaskByUrl", key=key, imageUrl=target.face_url or "", templateId=0)
    assert body["code"] != 0 and body["msg"], body


@pytest.mark.parametrize(
    "params",
    [{"templateId": 6}, {"templateId": "x"}, {"templateId": 1, "voiceUrl": "https://example.com/a.mp3"}],
    ids=["template-6", "template-x", "voice-without-template-0"],
)
async def test_parameters_outside_the_documented_ones_are_errors(
    target: Target, params: dict[str, Any]
) -> None:
    body = await target.call("submitTaskByUrl", imageUrl=target.face_url or "", **params)
    assert body["code"] != 0 and body["msg"] and body["data"] is None, body
