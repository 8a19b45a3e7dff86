"""The cutout.pro emulator's fixtures: a web server for photos and notices, and the app in process."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from emulators.testing.cutout import Files, serving, settings_in


@pytest.fixture
def web() -> Iterator[Files]:
    files = Files()
    threading.Thread(target=files.server.serve_forever, daemon=True).start()
    yield files
    files.server.shutdown()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(settings_in(tmp_path / "data")) as client:
        yield client
