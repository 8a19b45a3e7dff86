"""The real server, started as `python -m emulators`, through a full flow over TCP."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pytest
from emulators.testing import make_photo, upload_photo

BOUNCE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = os.environ | {
        "EMULATOR_PORT": str(port),
        "EMULATOR_DATA_DIR": str(tmp_path / "data"),
        "EMULATOR_PENDING_SECONDS": "0.1",
        "EMULATOR_PREPROCESS_SECONDS": "0.1",
        "EMULATOR_RUN_SECONDS": "0.2",
        "EMULATOR_POSTPROCESS_SECONDS": "0.1",
        "EMULATOR_VIDEO_SECONDS": "2",
    }
    log_path = tmp_path / "emulator.log"
    log = log_path.open("wb")
    process = subprocess.Popen([sys.executable, "-m", "emulators"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/admin/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"emulator did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


async def test_full_flow_over_tcp(server_url: str) -> None:
    headers = {"Authorization": "Bearer sk-tcp-test"}
    async with httpx.AsyncClient(base_url=f"{server_url}/api/v1", headers=headers, timeout=10) as client:
        photo = make_photo()
        detect_url = await upload_photo(client, photo, model="animate-anyone-detect-gen2")
        detect = await client.post(
            "/services/aigc/image2video/aa-detect",
            json={"model": "animate-anyone-detect-gen2", "input": {"image_url": detect_url}},
            headers={"X-DashScope-OssResourceResolve": "enable"},
        )
        assert detect.json()["output"]["check_pass"] is True

        image_url = await upload_photo(client, photo, model="animate-anyone-gen2")
        submit = await client.post(
            "/services/aigc/image2video/video-synthesis/",
            json={"model": "animate-anyone-gen2", "input": {"image_url": image_url, "template_id": BOUNCE}},
            headers={"X-DashScope-Async": "enable", "X-DashScope-OssResourceResolve": "enable"},
        )
        task_id = submit.json()["output"]["task_id"]
        for _ in range(200):
            body = (await client.get(f"/tasks/{task_id}")).json()
            if body["output"]["task_status"] in {"SUCCEEDED", "FAILED"}:
                break
            await asyncio.sleep(0.05)
        assert body["output"]["task_status"] == "SUCCEEDED", body
        video_url = body["output"]["video_url"]
        assert video_url.startswith(f"{server_url}/videos/{task_id}.mp4?")

        video = await client.get(video_url)
        assert video.headers["content-type"] == "video/mp4"
        with av.open(io.BytesIO(video.content)) as container:
            stream = container.streams.video[0]
            frames = list(container.decode(stream))
        assert stream.codec_context.name == "h264"
        assert len(frames) == 30
