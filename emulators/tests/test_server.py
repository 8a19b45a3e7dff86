"""The real server, started as `python -m emulators`, over TCP: flow, resets, timeouts, restarts."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import av
import httpx
import pytest
from emulators.testing import make_photo, run_emulator, submit_synthesis, upload_photo, wait_for_task

pytestmark = pytest.mark.emulator_only
TASK = "GET /api/v1/tasks/{task_id}"
KEY = {"Authorization": "Bearer sk-tcp-test"}


def api(url: str, timeout: float = 10) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers=KEY, timeout=timeout)


async def test_full_flow_over_tcp(server_url: str) -> None:
    async with api(server_url) as client:
        photo = make_photo()
        detect_url = await upload_photo(client, photo, model="animate-anyone-detect-gen2")
        detect = await client.post(
            "/api/v1/services/aigc/image2video/aa-detect",
            json={"model": "animate-anyone-detect-gen2", "input": {"image_url": detect_url}},
            headers={"X-DashScope-OssResourceResolve": "enable"},
        )
        assert detect.json()["output"]["check_pass"] is True
        body = await wait_for_task(client, await submit_synthesis(client, photo))
        assert body["output"]["task_status"] == "SUCCEEDED", body
        video = await client.get(body["output"]["video_url"])
    assert body["output"]["video_url"].startswith(f"{server_url}/videos/")
    with av.open(io.BytesIO(video.content)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert stream.codec_context.name == "h264"
    assert len(frames) == 30


async def test_the_environment_configures_the_process(server_url: str) -> None:
    async with api(server_url) as client:
        config = (await client.get("/admin/config")).json()
    assert config["seed"] == 7
    assert config["faults"] == {
        "HEAD /videos/{name}": {"latency_ms": [1.0, 2.0]} | config["faults"]["HEAD /videos/{name}"]
    }
    assert config["quotas"]["task_query"]["rate"] == 20


async def test_a_reset_drops_the_connection_without_an_answer(server_url: str) -> None:
    async with api(server_url) as client:
        await client.put("/admin/config", json={"faults": {TASK: {"preset": 1.0}}})
        with pytest.raises(httpx.TransportError):
            await client.get("/api/v1/tasks/some-task")
        listed = await client.get("/api/v1/tasks")
        counters = (await client.get("/admin/counters")).json()
    assert listed.status_code == 200, "other endpoints and the server stay up"
    assert counters["calls"][TASK] == {"reset": 1}
    assert counters["injected"][TASK] == {"reset": 1}


async def test_a_timeout_holds_the_call_past_the_clients_patience(server_url: str) -> None:
    async with api(server_url) as client:
        faults = {TASK: {"ptimeout": 1.0}}
        await client.put("/admin/config", json={"faults": faults, "timeout_seconds": 0.5})
        async with api(server_url, timeout=0.2) as impatient:
            with pytest.raises(httpx.ReadTimeout):
                await impatient.get("/api/v1/tasks/some-task")
        started = asyncio.get_running_loop().time()
        answer = await client.get("/api/v1/tasks/some-task")
    assert asyncio.get_running_loop().time() - started >= 0.5
    assert (answer.status_code, answer.json()["code"]) == (504, "RequestTimeOut")


async def test_an_outage_resets_every_call_but_admin_until_it_ends(server_url: str) -> None:
    async with api(server_url) as client:
        window = (await client.post("/admin/outage", json={"seconds": 60, "status": "reset"})).json()
        assert window["ends_at"] - window["starts_at"] == 60
        with pytest.raises(httpx.TransportError):
            await client.get("/api/v1/uploads", params={"action": "getPolicy", "model": "m"})
        assert (await client.get("/admin/health")).status_code == 200
        assert (await client.delete("/admin/outage")).status_code == 200
        after = await client.get("/api/v1/uploads", params={"action": "getPolicy", "model": "m"})
    assert after.status_code == 200


async def test_a_killed_emulator_resumes_its_tasks_on_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {
        "EMULATOR_PENDING_SECONDS": "0",
        "EMULATOR_PREPROCESS_SECONDS": "0.1",
        "EMULATOR_RUN_SECONDS": "1.5",
        "EMULATOR_POSTPROCESS_SECONDS": "0.1",
        "EMULATOR_VIDEO_SECONDS": "1",
    }
    with run_emulator(data_dir, env, kill=True) as url:
        port = int(url.rsplit(":", 1)[1])
        async with api(url) as client:
            finished = await wait_for_task(client, await submit_synthesis(client))
            task_id = await submit_synthesis(client)
            running = await wait_for_task(client, task_id, {"RUNNING"})
    await asyncio.sleep(1.6)  # longer than the rest of RUNNING: the clock keeps going while it is down
    with run_emulator(data_dir, env, port=port) as url:
        async with api(url) as client:
            resumed = (await client.get(f"/api/v1/tasks/{task_id}")).json()["output"]
            body = await wait_for_task(client, task_id)
            old_video = await client.get(finished["output"]["video_url"])
            counters = (await client.get("/admin/counters")).json()
    assert resumed["task_status"] in {"POST-PROCESSING", "SUCCEEDED"}
    assert resumed["scheduled_time"] == running["output"]["scheduled_time"]
    assert body["output"]["task_status"] == "SUCCEEDED", body
    assert old_video.status_code == 200 and old_video.headers["content-type"] == "video/mp4"
    assert list(counters["tasks_submitted"].values()) == [2]
    assert counters["max_running_per_lane"] == 1
