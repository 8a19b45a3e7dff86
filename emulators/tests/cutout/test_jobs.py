"""cutout.pro's jobs in the emulator: processing (0), then finished (1) with a real H.264 MP4 of the photo
moving like its template for exactly the template's clip length (and an animated GIF when asked), or failed
(2) when the photo has no face or a fate is scripted; one job at a time per account; kept across restarts."""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from emulators.cutout.render import TEMPLATES
from emulators.settings import EmulatorSettings
from emulators.testing import flat_photo, make_photo
from emulators.testing.cutout import Files, cutout_call, serving, settings_in, submit_cutout, wait_for_cutout
from emulators.video import pose
from PIL import Image

pytestmark = pytest.mark.emulator_only
KEY = "cutout-test-key"
CLIP_SECONDS = {0: 3.13, 1: 7.13, 2: 2.13, 3: 6.75, 4: 4.38, 5: 3.75}  # documented


def video_facts(data: bytes) -> tuple[str, float, tuple[int, int], list[np.ndarray[Any, Any]]]:
    """Codec, duration (s), frame size, frames."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="gray") for frame in container.decode(stream)]  # type: ignore[no-untyped-call]
        assert stream.duration is not None and stream.time_base is not None
        duration = float(stream.duration * stream.time_base)
        return stream.codec_context.name, duration, (stream.width, stream.height), frames


@pytest.mark.parametrize("template", range(6))
async def test_each_template_makes_an_mp4_of_its_clip_length_that_moves(
    tmp_path: Path, web: Files, template: int
) -> None:
    async with serving(settings_in(tmp_path / "data", cutout_run_seconds=0)) as api:
        task_id = await submit_cutout(
            api, KEY, web.serve("me.jpg", make_photo(image_format="JPEG")), template
        )
        data = await wait_for_cutout(api, KEY, task_id)
        assert data == {"taskId": task_id, "status": 1, "resultUrl": data["resultUrl"]}
        video = await api.get(data["resultUrl"])
    assert video.headers["content-type"] == "video/mp4"
    codec, duration, size, frames = video_facts(video.content)
    assert codec == "h264" and size == (480, 480)
    assert duration == pytest.approx(CLIP_SECONDS[template], abs=0.1)
    changes = [float(np.abs(frame.astype(int) - frames[0]).mean()) for frame in frames[1:]]
    assert max(changes) > 1 and len({frame.tobytes() for frame in frames}) > len(frames) // 2  # it moves


def test_the_six_templates_move_six_different_ways() -> None:
    background = Image.new("RGB", (240, 240), (40, 120, 200))
    figure = Image.open(io.BytesIO(make_photo(160, 200))).convert("RGBA")
    motions = [motion for _, motion in TEMPLATES.values()]
    assert len(set(motions)) == 6
    for t in (0.1, 0.3):
        frames = [np.asarray(pose(background, figure, motion, t)).tobytes() for motion in motions]
        assert len(set(frames)) == 6


async def test_a_gif_and_hd_when_asked(api: httpx.AsyncClient, web: Files) -> None:
    photo = web.serve("me.png", make_photo())
    task_id = await submit_cutout(api, KEY, photo, 2, outputFormat="gif", isHd="true")
    processing = (await cutout_call(api, KEY, "getTaskInfo", taskId=task_id)).json()["data"]
    assert processing == {"taskId": task_id, "status": 0, "resultUrl": None, "gifUrl": None}
    data = await wait_for_cutout(api, KEY, task_id)
    assert video_facts((await api.get(data["resultUrl"])).content)[2] == (720, 720)
    gif = await api.get(data["gifUrl"])
    assert gif.headers["content-type"] == "image/gif"
    with Image.open(io.BytesIO(gif.content)) as image:
        assert image.format == "GIF" and image.n_frames >= 10 and image.info.get("loop") == 0
        delays = []
        for index in range(image.n_frames):
            image.seek(index)
            delays.append(image.info["duration"])
    assert sum(delays) == pytest.approx(2130, abs=20)


async def test_result_links_are_signed_and_expire(tmp_path: Path, web: Files) -> None:
    async with serving(settings_in(tmp_path / "data", cutout_result_ttl_seconds=1)) as api:
        task_id = await submit_cutout(api, KEY, web.serve("me.png", make_photo()))
        url = (await wait_for_cutout(api, KEY, task_id))["resultUrl"]
        assert (await api.get(url)).status_code == 200
        assert (await api.get(url.replace("Signature=", "Signature=x"))).status_code == 403
        assert (await api.get(url.split("?")[0])).status_code == 403
        await asyncio.sleep(2.1)
        expired = await api.get(url)
    assert expired.status_code == 403 and b"Request has expired" in expired.content


async def test_a_photo_without_a_face_fails_its_job_with_the_reason(
    api: httpx.AsyncClient, web: Files
) -> None:
    flat, real = flat_photo(), make_photo(background=(200, 90, 60))
    real_sha = hashlib.sha256(real).hexdigest()
    await api.post("/admin/cutout/faces", json={"sha256": real_sha, "face": False, "reason": "a cat"})
    for name, photo, reason in (
        ("flat.png", flat, "No face"),
        ("marked.jpg", make_photo(image_format="JPEG", detect_reason="two faces"), "two faces"),
        ("scripted.png", real, "a cat"),
    ):
        data = await wait_for_cutout(api, KEY, await submit_cutout(api, KEY, web.serve(name, photo)))
        assert data["status"] == 2 and data["resultUrl"] is None and reason in data["msg"], data
    flat_sha = hashlib.sha256(flat).hexdigest()
    await api.post("/admin/cutout/faces", json={"sha256": flat_sha, "face": True})
    data = await wait_for_cutout(api, KEY, await submit_cutout(api, KEY, web.serve("flat2.png", flat)))
    assert data["status"] == 1


async def test_scripted_fates_fail_a_job_or_keep_it_processing(tmp_path: Path, web: Files) -> None:
    settings = settings_in(tmp_path / "data", stuck_task_seconds=1.5, cutout_jobs_per_account=0)
    async with serving(settings) as api:
        rule = {"model": "cutout-face-driven", "next": 1, "message": "The expression engine broke."}
        assert (await api.post("/admin/task-fates", json=rule)).status_code == 200
        failed = await submit_cutout(api, KEY, web.serve("a.png", make_photo()))
        assert (await api.post("/admin/task-fates", json={"next": 1, "fate": "never"})).status_code == 200
        stuck = await submit_cutout(api, KEY, web.serve("b.png", make_photo(background=(1, 2, 3))))
        marked = make_photo(task_mark="fail Algo.Error the marked message")
        by_mark = await submit_cutout(api, KEY, web.serve("c.png", marked))
        assert (await wait_for_cutout(api, KEY, failed))["msg"] == "The expression engine broke."
        assert (await wait_for_cutout(api, KEY, by_mark))["msg"] == "the marked message"
        await asyncio.sleep(0.6)
        assert (await cutout_call(api, KEY, "getTaskInfo", taskId=stuck)).json()["data"]["status"] == 0
        assert "did not finish" in (await wait_for_cutout(api, KEY, stuck))["msg"]
        tasks = {t["task_id"]: t for t in (await api.get("/admin/cutout/tasks")).json()["tasks"]}
    assert tasks[by_mark]["code"] == "Algo.Error" and tasks[stuck]["fate"]["fate"] == "never"


async def test_jobs_of_one_account_run_one_at_a_time_unless_configured(
    api: httpx.AsyncClient, web: Files
) -> None:
    photos = [web.serve(f"{n}.png", make_photo(background=(n, 60, 90))) for n in range(3)]
    first = [await submit_cutout(api, KEY, url) for url in photos]
    other = await submit_cutout(api, "another-key", photos[0])
    for task_id in first:
        await wait_for_cutout(api, KEY, task_id)
    await wait_for_cutout(api, "another-key", other)
    tasks = (await api.get("/admin/cutout/tasks")).json()["tasks"]
    mine = [t for t in tasks if t["task_id"] in first]
    for earlier, later in itertools.pairwise(mine):
        assert later["scheduled_time"] >= earlier["end_time"] - 0.01
    counters = (await api.get("/admin/counters")).json()
    assert counters["max_running_per_account"] == 1 and counters["max_running"] == 2
    assert counters["tasks_submitted_by_model"] == {"cutout-face-driven": 4}
    assert counters["duplicate_submissions"] == 1  # the same photo and template again: a second paid job

    await api.put("/admin/cutout/config", json={"jobs_per_account": 0})
    together = [await submit_cutout(api, KEY, url, 1) for url in photos]
    for task_id in together:
        await wait_for_cutout(api, KEY, task_id)
    assert (await api.get("/admin/counters")).json()["max_running_per_account"] == 3


async def test_jobs_survive_a_restart_on_the_same_data_dir(tmp_path: Path, web: Files) -> None:
    settings = settings_in(tmp_path / "data", cutout_run_seconds=1.0)
    async with serving(settings) as first:
        done = await submit_cutout(first, KEY, web.serve("a.png", make_photo()), 5, outputFormat="gif")
        done_data = await wait_for_cutout(first, KEY, done)
        running = await submit_cutout(first, KEY, web.serve("b.png", make_photo(background=(9, 9, 9))), 2)
        await asyncio.sleep(0.2)
    async with serving(settings) as second:
        again = (await cutout_call(second, KEY, "getTaskInfo", taskId=done)).json()["data"]
        assert again == done_data  # the same links, still valid
        assert video_facts((await second.get(again["resultUrl"])).content)[1] == pytest.approx(3.75, abs=0.1)
        resumed = await wait_for_cutout(second, KEY, running)
        assert resumed["status"] == 1
        assert await submit_cutout(second, KEY, web.serve("c.png", make_photo())) == running + 1
        tasks = {t["task_id"]: t for t in (await second.get("/admin/cutout/tasks")).json()["tasks"]}
    assert tasks[running]["end_time"] - tasks[running]["scheduled_time"] == pytest.approx(1.0, abs=0.5)


async def test_a_reset_drops_every_job_and_file(
    settings: EmulatorSettings, api: httpx.AsyncClient, web: Files
) -> None:
    task_id = await submit_cutout(api, KEY, web.serve("a.png", make_photo()))
    url = (await wait_for_cutout(api, KEY, task_id))["resultUrl"]
    assert (await api.post("/admin/reset")).status_code == 200
    assert (await api.get("/admin/cutout/tasks")).json()["tasks"] == []
    assert (await cutout_call(api, KEY, "getTaskInfo", taskId=task_id)).status_code == 404
    assert (await api.get(url)).status_code == 404
    assert not any((settings.data_dir / "cutout").iterdir())
