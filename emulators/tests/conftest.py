"""Fixtures for the emulator's tests.

The contract tests (`contract/`) talk to a target through `client`: the in-process emulator by
default, or the real DashScope when `DASHSCOPE_API_KEY` is set and `CI` is not true. Against the
real provider, every test marked `emulator_only` and every test outside `contract/` is skipped
(but cutout.pro's, in `cutout/`, which choose their own target).
"""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from emulators.app import create_app
from emulators.deps import Emulator
from emulators.settings import EmulatorSettings
from emulators.testing import asgi_client, make_photo, run_emulator
from emulators.testing.contract import REAL_BASE_URL, Target, real_api_key
from fastapi import FastAPI

PUBLIC_URL = "http://emulator.test"
API_KEY = "sk-test-account"
CONTRACT_DIR = Path(__file__).parent / "contract"
CUTOUT_DIR = Path(__file__).parent / "cutout"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator_only: needs the emulator's admin API or internals")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if real_api_key() is None:
        return
    skip = pytest.mark.skip(reason="emulator only; this run targets the real DashScope")
    here = Path(__file__).parent
    for item in items:
        path = Path(str(item.path))
        if path.is_relative_to(CUTOUT_DIR):
            continue  # cutout.pro's tests choose their own target (cutout/conftest.py)
        if path.is_relative_to(here) and (
            item.get_closest_marker("emulator_only") or not path.is_relative_to(CONTRACT_DIR)
        ):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def target() -> Target:
    key = real_api_key()
    if key is not None:
        return Target(real=True, base_url=REAL_BASE_URL, api_key=key)
    return Target(real=False, base_url=PUBLIC_URL, api_key=API_KEY)


@pytest.fixture
def settings(tmp_path: Path) -> EmulatorSettings:
    return EmulatorSettings(
        public_url=PUBLIC_URL,
        data_dir=tmp_path / "data",
        pending_seconds=0.05,
        preprocess_seconds=0.05,
        run_seconds=0.15,
        postprocess_seconds=0.05,
        video_seconds=1.0,
    )


@pytest.fixture
async def app(settings: EmulatorSettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    yield app
    emulator = app.state.emulator
    assert isinstance(emulator, Emulator)
    await emulator.close()


@pytest.fixture
def emulator(app: FastAPI) -> Emulator:
    emulator = app.state.emulator
    assert isinstance(emulator, Emulator)
    return emulator


@pytest.fixture
async def client(target: Target, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The contract's caller: the emulator in process, or the real DashScope."""
    if target.real:
        headers = {"Authorization": f"Bearer {target.api_key}"}
        async with httpx.AsyncClient(base_url=target.base_url, headers=headers, timeout=60) as real:
            yield real
        return
    async with asgi_client(app, api_key=API_KEY, base_url=PUBLIC_URL) as local:
        yield local


@pytest.fixture
async def other_client(target: Target, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The same target, seen by a second account (`DASHSCOPE_API_KEY_2` for the real one)."""
    if target.real:
        key = os.environ.get("DASHSCOPE_API_KEY_2") or pytest.skip("needs DASHSCOPE_API_KEY_2")
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=target.base_url, headers=headers, timeout=60) as real:
            yield real
        return
    async with asgi_client(app, api_key="sk-other-account", base_url=PUBLIC_URL) as local:
        yield local


@pytest.fixture
def person_photo(target: Target) -> bytes:
    """A photo the person check passes: drawn for the emulator; `DASHSCOPE_CONTRACT_PHOTO` for real."""
    if not target.real:
        return make_photo()
    path = os.environ.get("DASHSCOPE_CONTRACT_PHOTO") or pytest.skip("needs DASHSCOPE_CONTRACT_PHOTO")
    return Path(path).read_bytes()


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


TCP_ENV = {
    "EMULATOR_PENDING_SECONDS": "0.1",
    "EMULATOR_PREPROCESS_SECONDS": "0.1",
    "EMULATOR_RUN_SECONDS": "0.2",
    "EMULATOR_POSTPROCESS_SECONDS": "0.1",
    "EMULATOR_VIDEO_SECONDS": "2",
    "EMULATOR_SEED": "7",
    "EMULATOR_FAULTS": '{"HEAD /videos/{name}/": {"latency_ms": [1, 2]}}',
}


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `python -m emulators` process over TCP for the tests that need a real server."""
    with run_emulator(tmp_path_factory.mktemp("tcp") / "data", TCP_ENV) as url:
        yield url


@pytest.fixture
def server_url(shared_server: str) -> str:
    """The shared server, reset to its starting state and configuration."""
    httpx.post(f"{shared_server}/admin/reset").raise_for_status()
    return shared_server
