"""cutout.pro's completion notice: when a job ends, the documented JSON is POSTed to the account's URL (set
by the environment or at run time), tried a few times, counted, and never holding up the job's clock."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from emulators.testing import flat_photo, make_photo
from emulators.testing.cutout import Files, serving, settings_in, submit_cutout, wait_for_cutout

pytestmark = pytest.mark.emulator_only
KEY = "cutout-test-key"
EVENT = "EVENT_FACE_DRIVEN_TASK_FINISHED"


async def test_each_end_is_pushed_to_the_url_set_at_run_time(api: httpx.AsyncClient, web: Files) -> None:
    answer = await api.put("/admin/config", json={"cutout_callback_url": f"{web.url}/notices"})
    assert answer.status_code == 200 and answer.json()["cutout_callback_url"] == f"{web.url}/notices"
    finished = await submit_cutout(api, KEY, web.serve("me.png", make_photo()), 2, outputFormat="gif")
    failed = await submit_cutout(api, KEY, web.serve("flat.png", flat_photo()), 0)

    notices = {n["eventData"]["taskId"]: n for n in await web.wait_for_notices(2)}

    assert set(notices) == {finished, failed} and {n["eventName"] for n in notices.values()} == {EVENT}
    done = notices[finished]["eventData"]
    assert done == await wait_for_cutout(api, KEY, finished)  # what getTaskInfo answers
    assert done["status"] == 1 and done["resultUrl"].startswith("http://emulator.test/cutout/results/")
    assert done["gifUrl"].startswith("http://emulator.test/cutout/results/")
    assert (await api.get(done["resultUrl"])).status_code == 200
    lost = notices[failed]["eventData"]
    assert lost["status"] == 2 and lost["resultUrl"] is None and "No face" in lost["msg"]
    tasks = (await api.get("/admin/cutout/tasks")).json()
    assert {t["notice"] for t in tasks["tasks"]} == {"delivered"} and tasks["callbacks_failed"] == 0
    assert (await api.get("/admin/counters")).json()["callbacks"] == {"delivered": 2}


async def test_urls_come_from_the_environment_per_account(tmp_path: Path, web: Files) -> None:
    settings = settings_in(
        tmp_path / "data",
        accounts='{"acct-1": ["k1"], "acct-2": ["k2"]}',
        cutout_callback_url=f"{web.url}/everyone",
        cutout_callback_urls=f'{{"acct-2": "{web.url}/two"}}',
    )
    async with serving(settings) as api:
        config = (await api.get("/admin/cutout/config")).json()
        assert config["callback_urls"] == {"acct-2": f"{web.url}/two"}
        for key in ("k1", "k2"):
            await submit_cutout(api, key, web.serve(f"{key}.png", make_photo()))
        await web.wait_for_notices(2)
    assert sorted(web.notice_paths) == ["/everyone", "/two"]


async def test_a_refused_notice_is_tried_again(api: httpx.AsyncClient, web: Files) -> None:
    web.refuse_notices = 2
    await api.put("/admin/cutout/config", json={"callback_url": f"{web.url}/n"})
    task_id = await submit_cutout(api, KEY, web.serve("me.png", make_photo()))
    [notice] = await web.wait_for_notices(1)
    assert notice["eventData"]["taskId"] == task_id and web.attempts == 3
    assert (await api.get("/admin/counters")).json()["callbacks"] == {"retried": 2, "delivered": 1}


async def test_a_dead_or_slow_receiver_never_holds_up_the_jobs(tmp_path: Path, web: Files) -> None:
    web.delays["/slow"] = 2
    settings = settings_in(tmp_path / "data", cutout_callback_timeout_seconds=0.3, cutout_callback_attempts=2)
    async with serving(settings) as api:
        await api.put(
            "/admin/config", json={"cutout_callback_urls": {}, "cutout_callback_url": f"{web.url}/slow"}
        )
        photos = [web.serve(f"{n}.png", make_photo(background=(n, 0, 0))) for n in range(2)]
        first, second = [await submit_cutout(api, KEY, url) for url in photos]
        await wait_for_cutout(api, KEY, second)
        await api.put("/admin/cutout/config", json={"callback_url": "http://127.0.0.1:9/closed"})
        third = await submit_cutout(api, KEY, web.serve("2.png", make_photo(background=(2, 0, 0))))
        await wait_for_cutout(api, KEY, third)
        for _ in range(100):
            tasks = {t["task_id"]: t for t in (await api.get("/admin/cutout/tasks")).json()["tasks"]}
            if all(t["notice"] == "failed" for t in tasks.values()):
                break
            await asyncio.sleep(0.05)
        counters = (await api.get("/admin/counters")).json()["callbacks"]
    assert counters == {"retried": 3, "failed": 3}
    assert tasks[second]["scheduled_time"] - tasks[first]["end_time"] < 0.2  # not waiting for the notice
    assert {t["notice"] for t in tasks.values()} == {"failed"}


async def test_a_callback_url_must_be_http(api: httpx.AsyncClient) -> None:
    for call in (
        api.put("/admin/config", json={"cutout_callback_url": "ftp://x"}),
        api.put("/admin/cutout/config", json={"callback_url": "x"}),
        api.put("/admin/cutout/config", json={"run_seconds": -1}),
        api.put("/admin/cutout/config", json={"colour": "red"}),
    ):
        answer = await call
        assert answer.status_code == 400 and answer.json()["code"] == "InvalidParameter", answer.text
    assert (await api.get("/admin/cutout/config")).json() == {
        "callback_url": "",
        "callback_urls": {},
        "run_seconds": 0.3,
        "jobs_per_account": 1,
    }
