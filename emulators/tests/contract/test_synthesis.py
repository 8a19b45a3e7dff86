"""Video synthesis (dashscope.md §4): parameters, headers, the output video, one job at a time."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import av
import httpx
import numpy as np
import pytest
from emulators.testing import make_photo, upload_photo, wait_for_task
from emulators.testing.contract import Target
from emulators.testing.tasks import ASYNC, SUBMIT_PATH, synthesis_body
from emulators.testing.tasks import query_task as query
from emulators.testing.tasks import submit_synthesis as submit
from PIL import Image

MODEL = "animate-anyone-gen2"


def decode(video: bytes) -> tuple[av.VideoStream, list[np.ndarray[Any, Any]]]:
    container = av.open(io.BytesIO(video))
    stream = container.streams.video[0]
    frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return stream, frames


async def test_task_succeeds_with_an_h264_video(
    client: httpx.AsyncClient, person_photo: bytes, target: Target
) -> None:
    task_id = await submit(client, person_photo)
    seen = ["PENDING"]
    body = await query(client, task_id)
    while body["output"]["task_status"] not in {"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}:
        seen.append(body["output"]["task_status"])
        await asyncio.sleep(target.poll_seconds)
        body = await query(client, task_id)
    output = body["output"]
    assert output["task_status"] == "SUCCEEDED", output
    lifecycle = ["PENDING", "PRE-PROCESSING", "RUNNING", "POST-PROCESSING"]
    assert sorted(set(seen), key=lifecycle.index) == list(dict.fromkeys(seen)), "statuses went backwards"
    assert {"submit_time", "scheduled_time", "end_time", "video_url"} <= output.keys()
    assert body["usage"]["video_ratio"] == "9:16" and body["usage"]["video_duration"] > 0

    video = await client.get(output["video_url"], headers={"Authorization": ""})
    assert video.status_code == 200
    stream, frames = decode(video.content)
    assert stream.codec_context.name == "h264"
    assert stream.average_rate == 15
    assert len(frames) > 1


@pytest.mark.emulator_only
async def test_the_video_shows_the_photo_moving_for_the_template_length(client: httpx.AsyncClient) -> None:
    photo = make_photo()
    body = await wait_for_task(client, await submit(client, photo))
    assert body["usage"] == {"video_duration": 1.0, "video_ratio": "9:16"}
    assert body["output"]["video_url"].startswith(
        f"http://emulator.test/videos/{body['output']['task_id']}.mp4?"
    )
    stream, frames = decode((await client.get(body["output"]["video_url"])).content)
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.codec_context.width, stream.codec_context.height) == (360, 640)
    assert len(frames) == 15
    video_mean = np.mean([frame.reshape(-1, 3).mean(axis=0) for frame in frames], axis=0)
    photo_mean = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB")).reshape(-1, 3).mean(axis=0)
    assert np.abs(video_mean - photo_mean).max() < 12
    assert not np.array_equal(frames[0], frames[4]), "the photo should move"


async def test_keeping_the_photo_background_uses_the_requested_ratio(
    client: httpx.AsyncClient, person_photo: bytes, target: Target
) -> None:
    task_id = await submit(client, person_photo, use_ref_img_bg=True, video_ratio="3:4")
    body = await wait_for_task(client, task_id, within=target.task_seconds, interval=target.poll_seconds)
    assert body["usage"]["video_ratio"] == "3:4"
    stream, _ = decode((await client.get(body["output"]["video_url"], headers={"Authorization": ""})).content)
    assert stream.codec_context.width * 4 == stream.codec_context.height * 3


async def test_second_task_of_an_account_waits_until_the_first_finishes(
    client: httpx.AsyncClient, target: Target
) -> None:
    first = await submit(client)
    second = await submit(client)
    while (await query(client, first))["output"]["task_status"] not in {"SUCCEEDED", "FAILED"}:
        assert (await query(client, second))["output"]["task_status"] == "PENDING"
        await asyncio.sleep(target.poll_seconds)
    done = await wait_for_task(client, second, within=target.task_seconds, interval=target.poll_seconds)
    assert done["output"]["task_status"] in {"SUCCEEDED", "FAILED"}


async def test_another_accounts_task_is_unknown(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    mine = await submit(client)
    assert (await query(other_client, mine))["output"]["task_status"] == "UNKNOWN"
    # Clean up; on a loaded machine the task may already have left PENDING (then it cannot be canceled).
    cleanup = await client.post(f"/api/v1/tasks/{mine}/cancel")
    assert cleanup.status_code == 200 or cleanup.json()["code"] == "UnsupportedOperation"


@pytest.mark.emulator_only
async def test_other_accounts_run_in_parallel(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    mine, theirs = await submit(client), await submit(other_client)
    await wait_for_task(client, mine)
    await wait_for_task(other_client, theirs)
    counters = (await client.get("/admin/counters")).json()
    assert (counters["max_running"], counters["max_running_per_account"]) == (2, 1)


async def test_cancel_works_only_while_pending(client: httpx.AsyncClient, target: Target) -> None:
    running, waiting = await submit(client), await submit(client)
    cancel = await client.post(f"/api/v1/tasks/{waiting}/cancel")
    assert cancel.status_code == 200
    assert cancel.json()["request_id"]
    assert (await query(client, waiting))["output"]["task_status"] == "CANCELED"

    interval = target.poll_seconds
    await wait_for_task(client, running, {"RUNNING"}, within=target.task_seconds, interval=interval)
    refused = await client.post(f"/api/v1/tasks/{running}/cancel")
    assert (refused.status_code, refused.json()["code"]) == (400, "UnsupportedOperation")


@pytest.mark.emulator_only
async def test_photo_failing_the_person_check_ends_the_task_failed(client: httpx.AsyncClient) -> None:
    task_id = await submit(client, make_photo(detect_reason="two people"))
    output = (await wait_for_task(client, task_id))["output"]
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
    assert response.json()["request_id"]


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
    assert response.json()["request_id"]


async def test_photo_uploaded_for_detection_is_refused_by_synthesis(client: httpx.AsyncClient) -> None:
    url = await upload_photo(client, make_photo(), model="animate-anyone-detect-gen2")
    response = await client.post(SUBMIT_PATH, json=synthesis_body(url), headers=ASYNC)
    assert (response.status_code, response.json()["code"]) == (400, "InvalidURL")


async def test_oss_url_without_the_resolve_header_is_refused(client: httpx.AsyncClient) -> None:
    url = await upload_photo(client, make_photo(), model=MODEL)
    response = await client.post(
        SUBMIT_PATH, json=synthesis_body(url), headers={"X-DashScope-Async": "enable"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "InvalidParameter")


async def test_video_url_must_be_signed(
    client: httpx.AsyncClient, person_photo: bytes, target: Target
) -> None:
    task_id = await submit(client, person_photo)
    body = await wait_for_task(client, task_id, within=target.task_seconds, interval=target.poll_seconds)
    url = body["output"]["video_url"]
    tampered = url.replace("Signature=", "Signature=AAAA")
    assert (await client.get(tampered, headers={"Authorization": ""})).status_code == 403
    assert (await client.get(url.split("?")[0], headers={"Authorization": ""})).status_code == 403
