"""For tests of the cutout.pro emulator: a web server on 127.0.0.1 for photos and notices (`Files`), and
the emulator app served in process (`serving`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from emulators.app import create_app
from emulators.deps import Emulator
from emulators.settings import EmulatorSettings


class Files:
    """A web server on 127.0.0.1: photos to fetch (`serve`), and the notices POSTed to it (`notices`)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.notices: list[dict[str, Any]] = []
        files = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = files.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def do_POST(self) -> None:
                files.notices.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def serve(self, name: str, data: bytes) -> str:
        self.files[f"/{name}"] = data
        return f"{self.url}/{name}"


def settings_in(data_dir: Path) -> EmulatorSettings:
    return EmulatorSettings(public_url="http://emulator.test", data_dir=data_dir, cutout_run_seconds=0.3)


@asynccontextmanager
async def serving(settings: EmulatorSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The emulator app in process; its client (without a key: each call sends its own `APIKEY`)."""
    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator.test") as client:
            yield client
    finally:
        emulator = app.state.emulator
        assert isinstance(emulator, Emulator)
        await emulator.close()
