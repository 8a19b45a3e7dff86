"""The life of a consumer process, shared by the stages and the notifier: create the topics at start,
run background loops while up, stop them at shutdown (before the broker closes), then close clients."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress

from faststream import FastStream
from faststream.kafka import KafkaBroker

from common.messaging import ensure_topics
from common.settings import Settings

Loop = tuple[str, Callable[[], Coroutine[None, None, None]]]  # a task name and what it runs


def consumer_app(
    broker: KafkaBroker, settings: Settings, loops: list[Loop], closers: list[Callable[[], Awaitable[None]]]
) -> FastStream:
    tasks: list[asyncio.Task[None]] = []
    app = FastStream(broker)

    @app.on_startup
    async def create_topics() -> None:
        await ensure_topics(settings.kafka_bootstrap_servers, settings.topic_partitions)

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
        for close in closers:
            await close()

    return app
