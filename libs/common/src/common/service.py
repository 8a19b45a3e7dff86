"""The life of a consumer process, shared by the stages and the notifier: serve /healthz, /readyz and
/metrics on HEALTH_HOST:HEALTH_PORT (when the port is set; from the very start, so liveness answers while
the broker connects), create the topics at start, run background loops while up, stop them at shutdown
(before the broker closes), then close clients."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import suppress

from faststream import FastStream
from faststream.kafka import KafkaBroker

from common import logging as service_logging
from common import metrics, tracing
from common.health import Check, HealthServer, broker_check
from common.messaging import ensure_topics, make_broker
from common.settings import Settings

Loop = tuple[str, Callable[[], Coroutine[None, None, None]]]  # a task name and what it runs


def consumer_broker(name: str, settings: Settings) -> KafkaBroker:
    """The broker of consumer process `name`, its logging and tracing set up; measured and traced (its
    middleware comes before any subscriber)."""
    service_logging.configure(name, settings)
    tracing.configure(name, settings)
    broker = make_broker(settings, client_id=name, graceful_timeout=settings.shutdown_timeout_seconds)
    tracing.instrument_broker(broker)
    broker.add_middleware(metrics.kafka_middleware(name))
    return broker


def consumer_app(
    broker: KafkaBroker,
    settings: Settings,
    loops: list[Loop],
    closers: list[Callable[[], Awaitable[None]]],
    *,
    ready: Mapping[str, Check] | None = None,
) -> FastStream:
    """`ready`: what /readyz checks besides the broker (e.g. `{"database": database_check(engine)}`)."""
    tasks: list[asyncio.Task[None]] = []
    app = FastStream(broker)
    health = None
    if settings.health_port > 0:
        checks = {"kafka": broker_check(broker), **(ready or {})}
        health = HealthServer(settings.health_host, settings.health_port, checks)
        app.on_startup(health.start)

    @app.on_startup
    async def create_topics() -> None:
        if settings.create_topics_at_start:  # else the setup job (`python -m common.setup`) made them
            await ensure_topics(settings)

    @app.after_startup
    async def start_loops() -> None:
        tasks.extend(asyncio.create_task(run(), name=name) for name, run in loops)

    @app.on_shutdown
    async def stop_loops() -> None:
        for task in tasks:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    @app.after_shutdown
    async def close_clients() -> None:
        if health is not None:
            await health.stop()
        for close in closers:
            await close()
        await tracing.flush()

    return app
