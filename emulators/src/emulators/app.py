"""Composition root: `create_app(settings)` wires the store, scheduler and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from emulators import admin, detect, synthesis, tasks, uploads, videos
from emulators.counters import Counters, install_call_counter
from emulators.deps import Emulator
from emulators.errors import install_error_handlers
from emulators.scheduler import Scheduler, Timings
from emulators.settings import EmulatorSettings
from emulators.store import MemoryStore


def create_app(settings: EmulatorSettings | None = None) -> FastAPI:
    settings = settings or EmulatorSettings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = MemoryStore()
    counters = Counters()
    timings = Timings(
        pending=settings.pending_seconds,
        preprocess=settings.preprocess_seconds,
        run=settings.run_seconds,
        postprocess=settings.postprocess_seconds,
    )
    renderer = synthesis.make_renderer(settings.data_dir, settings.video_seconds)
    scheduler = Scheduler(store, counters, timings, renderer)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await scheduler.close()

    app = FastAPI(title="DashScope Animate Anyone emulator", lifespan=lifespan)
    app.state.emulator = Emulator(settings, store, counters, scheduler)
    install_error_handlers(app)
    install_call_counter(app, counters)
    for module in (uploads, detect, synthesis, tasks, videos, admin):
        app.include_router(module.router)
    return app
