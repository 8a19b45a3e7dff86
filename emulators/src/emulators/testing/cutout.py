"""For tests of cutout.pro's emulator (here and in the product's suites): a web server on 127.0.0.1 for
photos and completion notices (`Files`), the emulator app served in process (`serving`), and a client that
submits a job and follows it the way a polite caller does (`submit_cutout`, `wait_for_cutout`)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from emulators.app import create_app
from emulators.deps import Emulator
from emulators.settings import EmulatorSettings
from emulators.testing.tasks import retry_throttled

API = "/cutout/api/v1/faceDriven"
PUBLIC_URL = "http://emulator.test"


class Files:
    """A web server on 127.0.0.1: files to fetch (`serve`; `delays` holds a path's answer that long), and
    the notices POSTed to it (`notices`; the first `refuse_notices` of them are answered 500)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.delays: dict[str, float] = {}
        self.notices: list[dict[str, Any]] = []
        self.notice_paths: list[str] = []  # where each of `notices` was POSTed
        self.refuse_notices = 0
        self.attempts = 0  # notices POSTed, refused ones too
        files = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(files.delays.get(self.path, 0))
                body = files.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def do_POST(self) -> None:
                notice = json.loads(self.rfile.read(int(self.headers["content-length"])))
                time.sleep(files.delays.get(self.path, 0))
                files.attempts += 1
                refused = files.attempts <= files.refuse_notices
                if not refused:
                    files.notices.append(notice)
                    files.notice_paths.append(self.path)
                self.send_response(500 if refused else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def serve(self, name: str, data: bytes) -> str:
        self.files[f"/{name}"] = data
        return f"{self.url}/{name}"

    async def wait_for_notices(self, count: int, within: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if len(self.notices) >= count:
                return self.notices
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.notices)} notices, not {count}")


@contextmanager
def running(files: Files) -> Iterator[Files]:
    """Serve `files` until the block ends."""
    threading.Thread(target=files.server.serve_forever, daemon=True).start()
    try:
        yield files
    finally:
        files.server.shutdown()
        files.server.server_close()


def settings_in(data_dir: Path, **changes: Any) -> EmulatorSettings:
    """Settings for tests: short jobs, and `PUBLIC_URL` as the links' base."""
    given: dict[str, Any] = {"public_url": PUBLIC_URL, "data_dir": data_dir, "cutout_run_seconds": 0.3}
    return EmulatorSettings(**(given | changes))


@asynccontextmanager
async def serving(settings: EmulatorSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The emulator app in process; its client (without a key: each call sends its own `APIKEY`)."""
    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as client:
            yield client
    finally:
        emulator = app.state.emulator
        assert isinstance(emulator, Emulator)
        await emulator.close()


async def cutout_call(client: httpx.AsyncClient, key: str, name: str, **params: Any) -> httpx.Response:
    """`GET /cutout/api/v1/faceDriven/<name>?<params>` with the key (retried while throttled)."""
    path = f"{API}/{name}"
    return await retry_throttled(lambda: client.get(path, params=params, headers={"APIKEY": key}))


async def submit_cutout(
    client: httpx.AsyncClient, key: str, image_url: str, template: int = 0, **params: Any
) -> int:
    """Submit a job; its task id."""
    answer = await cutout_call(
        client, key, "submitTaskByUrl", imageUrl=image_url, templateId=template, **params
    )
    body = answer.json()
    assert answer.status_code == 200 and body["code"] == 0, body
    task_id: int = body["data"]
    return task_id


async def wait_for_cutout(
    client: httpx.AsyncClient, key: str, task_id: int, *, within: float = 20, interval: float = 0.05
) -> dict[str, Any]:
    """Poll until the job is finished (1) or failed (2); its `data`."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        answer = await cutout_call(client, key, "getTaskInfo", taskId=task_id)
        data: dict[str, Any] = answer.json()["data"]
        if data["status"] != 0:
            return data
        await asyncio.sleep(interval)
    raise AssertionError(f"cutout.pro job {task_id} still processing after {within} s")
