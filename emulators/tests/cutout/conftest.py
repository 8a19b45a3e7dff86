"""Fixtures for cutout.pro's emulator: a web server for photos and notices, the app in process.

`test_contract.py` talks to its `target`: the emulator by default, the real cutout.pro when
`CUTOUT_API_KEY` is set and `CI` is not true (then its `emulator_only` tests are skipped; the rest of this
folder always runs against the emulator)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from emulators.settings import EmulatorSettings
from emulators.testing.cutout import Files, running, serving, settings_in


@pytest.fixture
def web() -> Iterator[Files]:
    with running(Files()) as files:
        yield files


@pytest.fixture
def settings(tmp_path: Path) -> EmulatorSettings:
    return settings_in(tmp_path / "data")


@pytest.fixture
async def api(settings: EmulatorSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(settings) as client:
        yield client
