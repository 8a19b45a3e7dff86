from __future__ import annotations

import http.server
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from emulators.app import create_app
from emulators.deps import Emulator
from emulators.settings import EmulatorSettings
from emulators.testing import asgi_client
from fastapi import FastAPI

PUBLIC_URL = "http://emulator.test"
API_KEY = "sk-test-account"


@pytest.fixture
def settings(tmp_path: Path) -> EmulatorSettings:
    return EmulatorSettings(
        public_url=PUBLIC_URL,
        data_dir=tmp_path / "data",
        pending_seconds=0.05,
        preprocess_seconds=0.1,
        run_seconds=0.4,
        postprocess_seconds=0.05,
        video_seconds=1.0,
    )


@pytest.fixture
async def app(settings: EmulatorSettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    yield app
    emulator = app.state.emulator
    assert isinstance(emulator, Emulator)
    await emulator.scheduler.close()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app, api_key=API_KEY, base_url=PUBLIC_URL) as client:
        yield client


@pytest.fixture
async def other_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The same emulator, seen by a second account."""
    async with asgi_client(app, api_key="sk-other-account", base_url=PUBLIC_URL) as client:
        yield client


class _Files(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def file_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A local HTTP server: put bytes in the dict under a path, fetch them at base + path."""
    files: dict[str, bytes] = {}
    handler = type("Files", (_Files,), {"files": files})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", files
    server.shutdown()
    server.server_close()
