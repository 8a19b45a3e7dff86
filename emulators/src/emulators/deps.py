"""The emulator's parts, wired once in `create_app`, and the FastAPI aliases handlers use."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from emulators.controls import Controls
from emulators.counters import Counters
from emulators.cutout.jobs import CutoutJobs
from emulators.dashscope.scheduler import Scheduler
from emulators.dashscope.store import Store
from emulators.db import Database
from emulators.files import delete_files
from emulators.settings import EmulatorSettings

PURGE_INTERVAL_SECONDS = 1.0


@dataclass
class Emulator:
    settings: EmulatorSettings
    db: Database
    store: Store  # DashScope's state (emulators.dashscope)
    counters: Counters
    scheduler: Scheduler  # DashScope's task clock
    controls: Controls
    cutout: CutoutJobs  # cutout.pro's jobs, their clock and state (emulators.cutout)
    _started: bool = field(default=False, repr=False)
    _purged_at: float = field(default=0.0, repr=False)

    def start(self) -> None:
        """Resume the tasks a previous run left unfinished (once, on the running event loop)."""
        if not self._started:
            self._started = True
            self.scheduler.resume()
            self.cutout.resume()

    async def housekeeping(self) -> None:
        """Drop expired files and forgotten tasks, at most once a second."""
        now = time.time()
        if now - self._purged_at >= PURGE_INTERVAL_SECONDS:
            self._purged_at = now
            doomed = self.store.purge(now)
            if doomed:
                await asyncio.to_thread(delete_files, doomed)

    async def close(self) -> None:
        await self.scheduler.close()
        await self.cutout.close()
        self.db.close()


def _emulator(request: Request) -> Emulator:
    emulator = request.app.state.emulator
    assert isinstance(emulator, Emulator)
    return emulator


EmulatorDep = Annotated[Emulator, Depends(_emulator)]
