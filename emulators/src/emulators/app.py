"""Composition root: `create_app(settings)` wires the state, both providers' task clocks, the controls, the
gate (with each provider's dialect) and the routers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from pydantic import SecretStr
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from emulators import admin
from emulators.config import RuntimeConfig, initial_config, initial_outage
from emulators.controls import Controls
from emulators.counters import Counters
from emulators.cutout import admin as cutout_admin
from emulators.cutout import api as cutout_api
from emulators.cutout import results as cutout_results
from emulators.cutout.dialect import CUTOUT
from emulators.cutout.jobs import CutoutJobs
from emulators.cutout.notices import Notices
from emulators.cutout.store import CutoutStore
from emulators.dashscope import detect, scripts, synthesis, task_list, tasks, template_gen, uploads, videos
from emulators.dashscope.dialect import DASHSCOPE
from emulators.dashscope.scheduler import Scheduler, Timings
from emulators.dashscope.store import Retention, Store
from emulators.db import Database
from emulators.deps import Emulator
from emulators.dialects import Dialect
from emulators.errors import install_error_handlers
from emulators.gate import Gate
from emulators.settings import EmulatorSettings

STATE_DIR = "state"
DIALECTS: list[Dialect] = [CUTOUT, DASHSCOPE]  # by path prefix, the longer first


class EmulatorApp(FastAPI):
    """FastAPI with the gate outermost, so it sees the server's own `send` (and its connection)."""

    gate_routes: list[BaseRoute]

    def build_middleware_stack(self) -> ASGIApp:
        emulator = self.state.emulator
        assert isinstance(emulator, Emulator)
        return Gate(super().build_middleware_stack(), emulator, self.gate_routes, DIALECTS)


def create_app(settings: EmulatorSettings | None = None, config: RuntimeConfig | None = None) -> FastAPI:
    settings = _with_secret(settings or EmulatorSettings())
    db = Database(settings.data_dir / STATE_DIR / "emulator.sqlite3")
    retention = Retention(
        files=settings.file_retention_seconds,
        tasks=settings.task_retention_seconds,
        video_urls=settings.video_url_ttl_seconds,
    )
    store = Store(db, retention)
    counters = Counters(db)
    timings = Timings(
        pending=settings.pending_seconds,
        preprocess=settings.preprocess_seconds,
        run=settings.run_seconds,
        postprocess=settings.postprocess_seconds,
        stuck=settings.stuck_task_seconds,
    )
    workers = {
        synthesis.SYNTHESIS_MODEL: synthesis.make_renderer(settings, store),
        template_gen.TEMPLATE_MODEL: template_gen.make_template_maker(store),
    }
    scheduler = Scheduler(store, counters, timings, workers)
    controls = Controls(config or initial_config(settings), initial_outage(settings))
    notices = Notices(counters, settings.cutout_callback_attempts, settings.cutout_callback_timeout_seconds)
    cutout_jobs = CutoutJobs(CutoutStore(db), counters, controls, settings, notices)
    emulator = Emulator(settings, db, store, counters, scheduler, controls, cutout_jobs)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        emulator.start()
        yield
        await emulator.close()

    app = EmulatorApp(
        title="DashScope Animate Anyone and cutout.pro Photo Animer emulator", lifespan=lifespan
    )
    app.state.emulator = emulator
    install_error_handlers(app)
    routers = [
        module.router
        for module in (uploads, detect, synthesis, template_gen, task_list, tasks, videos, admin, scripts)
    ]
    routers += [module.router for module in (cutout_api, cutout_results, cutout_admin)]  # under /cutout
    for router in routers:
        app.include_router(router)
    # The gate names calls by these routes (the modules' own, independent of how FastAPI includes them).
    app.gate_routes = [route for router in routers for route in router.routes]
    return app


def _with_secret(settings: EmulatorSettings) -> EmulatorSettings:
    """Keep one signing secret per data dir, so policies and video URLs outlive a restart."""
    if settings.signing_secret is not None:
        return settings
    path: Path = settings.data_dir / STATE_DIR / "signing-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
    return settings.model_copy(update={"signing_secret": SecretStr(path.read_text().strip())})
