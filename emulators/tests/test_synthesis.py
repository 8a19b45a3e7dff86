from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import av
import httpx
import numpy as np
import pytest
from emulators.app import create_app
from emulators.settings import EmulatorSettings
from emulators.testing import asgi_client, make_photo, upload_photo
from PIL import Image

MODEL = "animate-anyone-gen2"
SUBMIT_PATH = "/api/v1/services/aigc/image2video/video-synthesis/"
BOUNCE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
ASYNC = {"X-DashScope-Async": "enable", "X-DashScope-OssResourceResolve": "enable"}
FINAL = {"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}


def synthesis_body(image_url: str, template_id: str = BOUNCE, **parameters: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "input": {"image_url": image_url, "template_id": template_id},
        "parameters": {"use_ref_img_bg": False, "video_ratio": "9:16"} | parameters,
    }


async def submit(client: httpx.AsyncClient, photo: bytes | None = None, **parameters: Any) -> str:
    url = await upload_photo(client, photo or make_photo(), model=MODEL)
    response = await client.post(SUBMIT_PATH, json=synthesis_body(url, **parameters), headers=ASYNC)
    assert response.status_code == 200, response.text
    assert response.json()["output"]["task_status"] == "PENDING"
    assert response.json()["request_id"]
    task_id: str = response.json()["output"]["task_id"]
    return task_id


async def query(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/tasks/{task_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def wait_for(client: httpx.AsyncClient, task_id: str, statuses: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        body = await query(client, task_id)
        if body["output"]["task_status"] in statuses:
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"task {task_id} never reached {statuses}")


def decode(video: bytes) -> tuple[av.VideoStream, list[np.ndarray[Any, Any]]]:
    container = av.open(io.BytesIO(video))
    stream = container.streams.video[0]
    frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return stream, frames


async def test_task_succeeds_with_a_real_h264_video_of_the_photo(client: httpx.AsyncClient) -> None:
    photo = make_photo()
    task_id = await submit(client, photo)
    seen = ["PENDING"]
    body = await query(client, task_id)
    while body["output"]["task_status"] not in FINAL:
        seen.append(body["output"]["task_status"])
        await asyncio.sleep(0.02)
        body = await query(client, task_id)
    output = body["output"]
    assert output["task_status"] == "SUCCEEDED", output
    lifecycle = ["PENDING", "PRE-PROCESSING", "RUNNING", "POST-PROCESSING"]
    assert "RUNNING" in seen
    assert sorted(set(seen), key=lifecycle.index) == list(dict.fromkeys(seen)), "statuses went backwards"
    assert {"submit_time", "scheduled_time", "end_time"} <= output.keys()
    assert output["video_url"].startswith(f"http://emulator.test/videos/{task_id}.mp4?Expires=")
    assert body["usage"] == {"video_duration": 1.0, "video_ratio": "9:16"}

    video = await client.get(output["video_url"])
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    stream, frames = decode(video.content)
    assert stream.codec_context.name == "h264"
    assert stream.average_rate == 15
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.codec_context.width, stream.codec_context.height) == (360, 640)
    assert len(frames) == 15
    video_mean = np.mean([frame.reshape(-1, 3).mean(axis=0) for frame in frames], axis=0)
    photo_mean = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB")).reshape(-1, 3).mean(axis=0)
    assert np.abs(video_mean - photo_mean).max() < 12
    assert not np.array_equal(frames[0], frames[4]), "the photo should move"


async def test_keeping_the_photo_background_uses_the_requested_ratio(client: httpx.AsyncClient) -> None:
    task_id = await submit(client, use_ref_img_bg=True, video_ratio="3:4")
    body = await wait_for(client, task_id, FINAL)
    assert body["usage"]["video_ratio"] == "3:4"
    stream, _ = decode((await client.get(body["output"]["video_url"])).content)
    assert (stream.codec_context.width, stream.codec_context.height) == (480, 640)


async def test_second_task_of_an_account_waits_until_the_first_finishes(client: httpx.AsyncClient) -> None:
    first = await submit(client)
    second = await submit(client)
    while (await query(client, first))["output"]["task_status"] not in FINAL:
        assert (await query(client, second))["output"]["task_status"] == "PENDING"
        await asyncio.sleep(0.02)
    done = await wait_for(client, second, FINAL)
    assert done["output"]["task_status"] == "SUCCEEDED"
    counters = (await client.get("/admin/counters")).json()
    assert counters["max_running_per_account"] == 1


async def test_other_accounts_run_in_parallel(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    mine, theirs = await submit(client), await submit(other_client)
    assert (await query(other_client, mine))["output"]["task_status"] == "UNKNOWN"
    await wait_for(client, mine, FINAL)
    await wait_for(other_client, theirs, FINAL)
    counters = (await client.get("/admin/counters")).json()
    assert (counters["max_running"], counters["max_running_per_account"]) == (2, 1)


async def test_cancel_works_only_while_pending(client: httpx.AsyncClient) -> None:
    running, waiting = await submit(client), await submit(client)
    cancel = await client.post(f"/api/v1/tasks/{waiting}/cancel")
    assert cancel.status_code == 200
    assert cancel.json()["request_id"]
    assert (await query(client, waiting))["output"]["task_status"] == "CANCELED"

    await wait_for(client, running, {"RUNNING"})
    refused = await client.post(f"/api/v1/tasks/{running}/cancel")
    assert (refused.status_code, refused.json()["code"]) == (400, "UnsupportedOperation")
    assert (await wait_for(client, running, FINAL))["output"]["task_status"] == "SUCCEEDED"


async def test_unknown_task_is_unknown(client: httpx.AsyncClient) -> None:
    body = await query(client, "no-such-task")
    assert body["output"] == {"task_id": "no-such-task", "task_status": "UNKNOWN"}
    assert body["request_id"]


async def test_photo_failing_the_person_check_ends_the_task_failed(client: httpx.AsyncClient) -> None:
    task_id = await submit(client, make_photo(detect_reason="two people"))
    output = (await wait_for(client, task_id, FINAL))["output"]
    assert (output["task_status"], output["code"], output["message"]) == (
        "FAILED",
        "InvalidFile.Content",
        "two people",
    )
    assert "video_url" not in output


async def test_submit_needs_the_async_header(client: httpx.AsyncClient) -> None:
    url = await upload_photo(client, make_photo(), model=MODEL)
    headers = {"X-DashScope-OssResourceResolve": "enable"}
    response = await client.post(SUBMIT_PATH, json=synthesis_body(url), headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "AccessDenied"
    assert response.json()["message"] == "current user api does not support synchronous calls"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"template_id": "AACT.nope"}, "InvalidFile.Template.Content"),
        ({"video_ratio": "16:9"}, "InvalidParameter"),
        ({"use_ref_img_bg": "yes"}, "InvalidParameter"),
        ({"model": "animate-anyone"}, "InvalidParameter"),
    ],
)
async def test_bad_submissions_are_400(client: httpx.AsyncClient, change: dict[str, str], code: str) -> None:
    url = await upload_photo(client, make_photo(), model=MODEL)
    body = synthesis_body(url)
    for name, value in change.items():
        section = body if name == "model" else body["input"] if name == "template_id" else body["parameters"]
        section[name] = value
    response = await client.post(SUBMIT_PATH, json=body, headers=ASYNC)
    assert (response.status_code, response.json()["code"]) == (400, code)


async def test_photo_uploaded_for_detection_is_refused_by_synthesis(client: httpx.AsyncClient) -> None:
    url = await upload_photo(client, make_photo(), model="animate-anyone-detect-gen2")
    response = await client.post(SUBMIT_PATH, json=synthesis_body(url), headers=ASYNC)
    assert (response.status_code, response.json()["code"]) == (400, "InvalidURL")


async def test_video_url_must_be_signed(client: httpx.AsyncClient) -> None:
    task_id = await submit(client)
    url = (await wait_for(client, task_id, FINAL))["output"]["video_url"]
    tampered = url.replace("Expires=", "Expires=9")
    assert (await client.get(tampered)).status_code == 403
    assert (await client.get(url.split("?")[0])).status_code == 403


async def test_counters_and_reset(client: httpx.AsyncClient) -> None:
    photo = make_photo()
    first, second = await submit(client, photo), await submit(client, photo)
    await wait_for(client, second, FINAL)
    counters = (await client.get("/admin/counters")).json()
    assert counters["duplicate_submissions"] == 1
    assert list(counters["tasks_submitted"].values()) == [2]
    assert counters["max_running"] == 1
    assert counters["calls"][f"POST {SUBMIT_PATH}"] == {"200": 2}
    assert counters["calls"]["GET /api/v1/tasks/{task_id}"]["200"] >= 1

    assert (await client.post("/admin/reset")).status_code == 200
    assert (await query(client, first))["output"]["task_status"] == "UNKNOWN"
    assert (await client.get("/admin/counters")).json()["tasks_submitted"] == {}
    assert (await client.get("/admin/health")).json() == {"status": "ok"}


async def test_video_url_expires(settings: EmulatorSettings) -> None:
    app = create_app(settings.model_copy(update={"video_url_ttl_seconds": 0}))
    async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
        task_id = await submit(client)
        url = (await wait_for(client, task_id, FINAL))["output"]["video_url"]
        await asyncio.sleep(1)
        response = await client.get(url)
        await app.state.emulator.scheduler.close()
    assert response.status_code == 403
    assert "Request has expired" in response.text
