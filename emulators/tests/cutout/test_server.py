"""cutout.pro's emulator as its own process (`python -m emulators`) over TCP: a job killed mid-way with the
process (SIGKILL) carries on after a restart on the same data dir and port, its result is served and its
notice delivered; a reset fault drops the connection."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from emulators.testing import make_photo, run_emulator
from emulators.testing.cutout import Files, submit_cutout, wait_for_cutout
from emulators.testing.server import free_port

pytestmark = pytest.mark.emulator_only
KEY = "cutout-test-key"


async def test_a_job_outlives_a_kill_and_restart(tmp_path: Path, web: Files) -> None:
    data_dir, port = tmp_path / "data", free_port()
    env = {"EMULATOR_CUTOUT_RUN_SECONDS": "2", "EMULATOR_CUTOUT_CALLBACK_URL": f"{web.url}/notices"}
    photo = web.serve("me.png", make_photo())
    with run_emulator(data_dir, env, port=port, kill=True) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            task_id = await submit_cutout(client, KEY, photo, 2, outputFormat="gif")
            await asyncio.sleep(0.3)
    assert web.notices == []
    with run_emulator(data_dir, env, port=port) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            data = await wait_for_cutout(client, KEY, task_id)
            assert data["status"] == 1 and data["resultUrl"].startswith(f"{url}/cutout/results/")
            video = await client.get(data["resultUrl"])
            [notice] = await web.wait_for_notices(1)
            await client.put("/admin/config", json={"faults": {"*": {"preset": 1.0}}})
            with pytest.raises(httpx.TransportError):
                await client.get("/cutout/api/v1/faceDriven/getTaskInfo", params={"taskId": task_id})
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert notice["eventData"] == data
