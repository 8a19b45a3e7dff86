"""Template generation (dashscope.md §3): a video becomes a template only its account can use."""

from __future__ import annotations

import re

import httpx
import pytest
from emulators.testing import make_clip, make_photo, submit_synthesis, upload_photo, wait_for_task
from emulators.testing.contract import Target
from emulators.testing.tasks import ASYNC, SUBMIT_PATH, synthesis_body

TEMPLATE_MODEL = "animate-anyone-template-gen2"
TEMPLATE_PATH = "/api/v1/services/aigc/image2video/aa-template-generation/"
TEMPLATE_ID = re.compile(
    r"^AACT\.[0-9a-f]{8}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_]{2}-[A-Za-z0-9_]{2}-[A-Za-z0-9_]{2}$"
)


async def submit_template(client: httpx.AsyncClient, clip: bytes, **headers: str) -> httpx.Response:
    url = await upload_photo(client, clip, model=TEMPLATE_MODEL, name="dance.mp4")
    body = {"model": TEMPLATE_MODEL, "input": {"video_url": url}}
    return await client.post(TEMPLATE_PATH, json=body, headers=ASYNC | headers)


async def make_template(client: httpx.AsyncClient, target: Target) -> str:
    response = await submit_template(client, make_clip(seconds=2))
    assert response.status_code == 200, response.text
    task_id = response.json()["output"]["task_id"]
    body = await wait_for_task(client, task_id, within=target.task_seconds, interval=target.poll_seconds)
    assert body["output"]["task_status"] == "SUCCEEDED", body
    assert body["usage"]["video_duration"] == pytest.approx(2, abs=0.2)
    template_id: str = body["output"]["template_id"]
    return template_id


async def test_a_generated_template_animates_only_its_accounts_photos(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, target: Target
) -> None:
    template_id = await make_template(client, target)
    assert TEMPLATE_ID.match(template_id), template_id

    task_id = await submit_synthesis(client, template_id=template_id)
    body = await wait_for_task(client, task_id, within=target.task_seconds, interval=target.poll_seconds)
    assert body["output"]["task_status"] == "SUCCEEDED"

    url = await upload_photo(other_client, make_photo(), model="animate-anyone-gen2")
    refused = await other_client.post(SUBMIT_PATH, json=synthesis_body(url, template_id), headers=ASYNC)
    assert (refused.status_code, refused.json()["code"]) == (400, "InvalidFile.Template.Content")


@pytest.mark.emulator_only
async def test_a_generated_template_lasts_as_long_as_its_video(
    client: httpx.AsyncClient, target: Target
) -> None:
    template_id = await make_template(client, target)
    body = await wait_for_task(client, await submit_synthesis(client, template_id=template_id))
    assert body["usage"]["video_duration"] == pytest.approx(2, abs=0.1)


async def test_template_generation_needs_the_async_header(client: httpx.AsyncClient) -> None:
    response = await submit_template(client, make_clip(), **{"X-DashScope-Async": ""})
    assert (response.status_code, response.json()["code"]) == (403, "AccessDenied")


@pytest.mark.emulator_only
@pytest.mark.parametrize(
    ("clip", "code"),
    [
        pytest.param(make_clip(seconds=1), "InvalidFile.Duration", id="one-second"),
        pytest.param(make_clip(fps=15), "InvalidFile.FPS", id="15-fps"),
        pytest.param(make_clip(size=(160, 320)), "InvalidFile.Resolution", id="160-wide"),
        pytest.param(b"not a video", "InvalidFile.Format", id="not-a-video"),
    ],
)
async def test_video_outside_the_limits_is_a_400(client: httpx.AsyncClient, clip: bytes, code: str) -> None:
    response = await submit_template(client, clip)
    assert (response.status_code, response.json()["code"]) == (400, code)


@pytest.mark.emulator_only
async def test_a_marked_video_fails_its_template_task(client: httpx.AsyncClient) -> None:
    response = await submit_template(client, make_clip(task_mark="fail InvalidFile.Content no person moves"))
    body = await wait_for_task(client, response.json()["output"]["task_id"])
    assert (body["output"]["task_status"], body["output"]["code"]) == ("FAILED", "InvalidFile.Content")
    assert body["output"]["message"] == "no person moves"
