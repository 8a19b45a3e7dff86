"""State on disk: it survives a restart on the same data dir; files and tasks expire on time."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from emulators.app import create_app
from emulators.settings import EmulatorSettings
from emulators.testing import (
    asgi_client,
    make_clip,
    make_photo,
    submit_synthesis,
    upload_photo,
    wait_for_task,
)
from emulators.testing.tasks import ASYNC, query_task

pytestmark = pytest.mark.emulator_only
TEMPLATE_MODEL = "animate-anyone-template-gen2"
DETECT = "animate-anyone-detect-gen2"
DETECT_PATH = "/api/v1/services/aigc/image2video/aa-detect"
RESOLVE = {"X-DashScope-OssResourceResolve": "enable"}
TEMPLATE_PATH = "/api/v1/services/aigc/image2video/aa-template-generation/"


async def make_template(client: httpx.AsyncClient) -> str:
    url = await upload_photo(client, make_clip(), model=TEMPLATE_MODEL, name="dance.mp4")
    body = {"model": TEMPLATE_MODEL, "input": {"video_url": url}}
    submitted = await client.post(TEMPLATE_PATH, json=body, headers=ASYNC)
    done = await wait_for_task(client, submitted.json()["output"]["task_id"])
    template_id: str = done["output"]["template_id"]
    return template_id


async def test_a_restarted_emulator_keeps_files_tasks_templates_and_counters(
    settings: EmulatorSettings,
) -> None:
    first = create_app(settings)
    async with asgi_client(first, api_key="sk-a", base_url=settings.public_url) as client:
        url = await upload_photo(client, make_photo(), model=DETECT)
        done = await wait_for_task(client, await submit_synthesis(client))
        pending = await submit_synthesis(client)
        template_id = await make_template(client)
    await first.state.emulator.close()

    second = create_app(settings)
    async with asgi_client(second, api_key="sk-a", base_url=settings.public_url) as client:
        detect = await client.post(
            DETECT_PATH, json={"model": DETECT, "input": {"image_url": url}}, headers=RESOLVE
        )
        video = await client.get(done["output"]["video_url"])
        resumed = await wait_for_task(client, pending)
        animated = await wait_for_task(client, await submit_synthesis(client, template_id=template_id))
        counters = (await client.get("/admin/counters")).json()
    await second.state.emulator.close()
    assert detect.status_code == 200, "the uploaded file and the signing secret survived"
    assert video.status_code == 200, "the rendered video is still served"
    assert resumed["output"]["task_status"] == "SUCCEEDED"
    assert animated["output"]["task_status"] == "SUCCEEDED", "the generated template is still the account's"
    assert list(counters["tasks_submitted"].values()) == [4]
    assert counters["calls"]["GET /api/v1/uploads"] == {"200": 5}


async def test_uploaded_files_expire_after_their_retention(settings: EmulatorSettings) -> None:
    app = create_app(settings.model_copy(update={"file_retention_seconds": 0.3}))
    async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
        url = await upload_photo(client, make_photo(), model=DETECT)
        body = {"model": DETECT, "input": {"image_url": url}}
        fresh = await client.post(DETECT_PATH, json=body, headers=RESOLVE)
        await asyncio.sleep(1.05)  # past the retention and the once-a-second purge
        expired = await client.post(DETECT_PATH, json=body, headers=RESOLVE)
    await app.state.emulator.close()
    assert fresh.status_code == 200
    assert (expired.status_code, expired.json()["code"]) == (400, "InvalidURL")
    assert not list((settings.data_dir / "oss").rglob("*.png")), "the purge deleted the file"


async def test_reset_drops_all_state(settings: EmulatorSettings) -> None:
    app = create_app(settings)
    async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
        photo = make_photo()
        first, second = await submit_synthesis(client, photo), await submit_synthesis(client, photo)
        await wait_for_task(client, second)
        counters = (await client.get("/admin/counters")).json()
        assert (await client.post("/admin/reset")).status_code == 200
        forgotten = await query_task(client, first)
        after = (await client.get("/admin/counters")).json()
    await app.state.emulator.close()
    assert counters["duplicate_submissions"] == 1
    assert counters["max_running"] == 1
    assert counters["calls"]["POST /api/v1/services/aigc/image2video/video-synthesis"] == {"200": 2}
    assert forgotten["output"]["task_status"] == "UNKNOWN"
    assert after["tasks_submitted"] == {} and after["duplicate_submissions"] == 0
    assert not list((settings.data_dir / "videos").iterdir())
