"""The emulator's parts, wired once in `create_app`, and the FastAPI aliases handlers use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from emulators.counters import Counters
from emulators.scheduler import Scheduler
from emulators.settings import EmulatorSettings
from emulators.store import MemoryStore


@dataclass(frozen=True)
class Emulator:
    settings: EmulatorSettings
    store: MemoryStore
    counters: Counters
    scheduler: Scheduler


def _emulator(request: Request) -> Emulator:
    emulator = request.app.state.emulator
    assert isinstance(emulator, Emulator)
    return emulator


EmulatorDep = Annotated[Emulator, Depends(_emulator)]
