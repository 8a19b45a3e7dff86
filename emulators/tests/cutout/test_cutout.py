"""cutout.pro's Photo Animer as the emulator serves it: the documented envelope and calls, the key, each
input error, a job from processing to a real MP4 (and GIF) of the template's clip length, a photo without
a face failing its job, the completion notice POSTed to the account's URL, and state across a restart."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from emulators.testing import make_photo
from emulators.testing.cutout import Files, serving, settings_in
from PIL import Image

KEY = {"APIKEY": "cutout-test-key"}
API = "/cutout/api/v1/faceDriven"


async def submit(api: httpx.AsyncClient, url: str, template: str = "0", **params: str) -> httpx.Response:
    return await api.get(
        f"{API}/submitTaskByUrl", params={"imageUrl": url, "templateId": template, **params}, headers=KEY
    )


async def finished(api: httpx.AsyncClient, task_id: int) -> dict[str, Any]:
    for _ in range(200):
        data = (await api.get(f"{API}/getTaskInfo", params={"taskId": task_id}, headers=KEY)).json()["data"]
        if data["status"] != 0:
            return dict(data)
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} still processing")


async def fetch(api: httpx.AsyncClient, url: str) -> bytes:
    answer = await api.get(url)
    assert answer.status_code == 200, answer.text
    return answer.content


def clip_facts(data: bytes) -> tuple[float, int]:
    """Duration in seconds, and how many distinct frames."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [bytes(f.to_ndarray().tobytes()) for f in container.decode(video=0)]  # type: ignore[no-untyped-call]
        duration = float(stream.frames / stream.average_rate) if stream.average_rate else 0.0
    return duration, len(set(frames))


async def test_a_photo_becomes_an_mp4_and_a_gif_of_its_templates_clip_length(
    api: httpx.AsyncClient, web: Files
) -> None:
    answer = await submit(api, web.serve("me.png", make_photo()), "1", outputFormat="gif")
    body = answer.json()
    assert (
        answer.status_code == 200
        and body["code"] == 0
        and body["msg"] is None
        and isinstance(body["time"], int)
    )
    task_id = body["data"]
    assert isinstance(task_id, int)
    first = (await api.get(f"{API}/getTaskInfo", params={"taskId": task_id}, headers=KEY)).json()["data"]
    assert (first["taskId"], first["status"]) == (task_id, 0)

    data = await finished(api, task_id)

    assert data["status"] == 1 and data["resultUrl"].startswith("http://emulator.test/cutout/results/")
    duration, distinct = clip_facts(await fetch(api, data["resultUrl"]))
    assert duration == pytest.approx(7.13, abs=0.1) and distinct > 10  # the photo moves
    with Image.open(io.BytesIO(await fetch(api, data["gifUrl"]))) as gif:
        assert gif.format == "GIF" and gif.n_frames > 5


async def test_a_photo_without_a_face_fails_its_job_with_a_reason(api: httpx.AsyncClient, web: Files) -> None:
    flat = io.BytesIO()
    Image.new("RGB", (400, 400), (90, 90, 90)).save(flat, "PNG")
    marked = make_photo(detect_reason="two faces")
    for name, photo, reason in (
        ("flat.png", flat.getvalue(), "No face"),
        ("marked.png", marked, "two faces"),
    ):
        task_id = (await submit(api, web.serve(name, photo))).json()["data"]
        data = await finished(api, task_id)
        assert data["status"] == 2 and "resultUrl" not in data
        tasks = (await api.get("/admin/cutout/tasks")).json()["tasks"]
        assert any(t["task_id"] == task_id and reason in t["no_face"] for t in tasks)


@pytest.mark.parametrize(
    ("params", "headers", "status", "code"),
    [
        ({"templateId": "0"}, {}, 401, 401),
        ({"templateId": "6"}, KEY, 400, 4005),
        ({"templateId": "1", "voiceUrl": "https://v/a.mp3"}, KEY, 400, 4005),
        ({"templateId": "0", "outputFormat": "webm"}, KEY, 400, 4005),
    ],
)
async def test_input_errors_are_envelopes_with_a_code_and_message(
    api: httpx.AsyncClient,
    web: Files,
    params: dict[str, str],
    headers: dict[str, str],
    status: int,
    code: int,
) -> None:
    answer = await api.get(
        f"{API}/submitTaskByUrl",
        params={"imageUrl": web.serve("p.png", make_photo()), **params},
        headers=headers,
    )
    body = answer.json()
    assert (answer.status_code, body["code"], body["data"]) == (status, code, None) and body["msg"]


async def test_photos_it_cannot_fetch_or_read_are_refused(api: httpx.AsyncClient, web: Files) -> None:
    for url, code in (
        (f"{web.url}/missing.png", 4004),
        (web.serve("text.png", b"not an image"), 4001),
        (web.serve("huge.png", make_photo(4100, 600)), 4003),
    ):
        body = (await submit(api, url)).json()
        assert body["code"] == code, (url, body)
    unknown = await api.get(f"{API}/getTaskInfo", params={"taskId": 1}, headers=KEY)
    assert (unknown.status_code, unknown.json()["code"]) == (404, 4040)


async def test_the_end_of_a_job_is_pushed_to_the_accounts_callback_url(
    api: httpx.AsyncClient, web: Files
) -> None:
    config = await api.put("/admin/cutout/config", json={"callback_url": f"{web.url}/notices"})
    assert config.json()["callback_url"] == f"{web.url}/notices"
    task_id = (await submit(api, web.serve("me.png", make_photo()))).json()["data"]
    await finished(api, task_id)
    for _ in range(100):
        if web.notices:
            break
        await asyncio.sleep(0.05)
    [notice] = web.notices
    assert notice["eventName"] == "EVENT_FACE_DRIVEN_TASK_FINISHED"
    assert notice["eventData"]["taskId"] == task_id and notice["eventData"]["resultUrl"].startswith(
        "http://emulator.test/"
    )


async def test_faults_are_injected_like_dashscopes(api: httpx.AsyncClient, web: Files) -> None:
    faults = {"GET /cutout/api/v1/faceDriven/getTaskInfo": {"p503": 1.0}}
    assert (await api.put("/admin/config", json={"faults": faults})).status_code == 200
    answer = await api.get(f"{API}/getTaskInfo", params={"taskId": 1}, headers=KEY)
    assert answer.status_code == 503


async def test_jobs_survive_a_restart_on_the_same_data_dir(tmp_path: Path, web: Files) -> None:
    settings = settings_in(tmp_path / "data")
    async with serving(settings) as first:
        task_id = (await submit(first, web.serve("me.png", make_photo()))).json()["data"]
        data = await finished(first, task_id)
    async with serving(settings) as second:
        again = (await second.get(f"{API}/getTaskInfo", params={"taskId": task_id}, headers=KEY)).json()[
            "data"
        ]
        assert again["status"] == 1 and clip_facts(await fetch(second, again["resultUrl"]))[0] > 3
    assert data["status"] == 1
