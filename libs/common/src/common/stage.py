"""The composition root every stage shares: one topic in, the next event out.

A stage supplies a name (= package = consumer group = process name), the topic and event type
it consumes, and a use case. Offsets are committed only after the use case has stored its work
and the next event is on the broker (ack policy NACK_ON_ERROR: an exception hands the message back).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress
from dataclasses import dataclass
from typing import TypeVar

import httpx
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import logging as service_logging
from common.db.session import make_engine, make_sessionmaker
from common.events import Event
from common.messaging import ensure_topics, make_broker, publish
from common.providers.dashscope import DashScopeClient
from common.settings import Settings, load_settings

E = TypeVar("E", bound=Event)
log = logging.getLogger(__name__)


@dataclass
class StageContext:
    name: str
    settings: Settings
    broker: KafkaBroker
    sessions: async_sessionmaker[AsyncSession]
    dashscope: DashScopeClient


UseCase = Callable[[StageContext, E], Awaitable[Event | None]]
Background = Callable[[StageContext], Coroutine[None, None, None]]


def stage_app(
    name: str,
    topic: str,
    event_type: type[E],
    use_case: UseCase[E],
    *,
    background: Background | None = None,
    settings: Settings | None = None,
) -> FastStream:
    settings = settings or load_settings()
    service_logging.configure(name)
    broker = make_broker(settings.kafka_bootstrap_servers, client_id=name)
    engine = make_engine(settings.database_url)
    http = httpx.AsyncClient(timeout=settings.dashscope_timeout_seconds)
    ctx = StageContext(
        name=name,
        settings=settings,
        broker=broker,
        sessions=make_sessionmaker(engine),
        dashscope=DashScopeClient(http, settings.dashscope_api_key, settings.dashscope_base_url),
    )
    tasks: list[asyncio.Task[None]] = []

    @broker.subscriber(
        topic,
        group_id=name,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_workers=settings.stage_concurrency,
        auto_offset_reset="earliest",
    )
    async def handle(message: KafkaMessage) -> None:
        try:
            event = event_type.model_validate_json(message.body)
        except ValidationError as exc:
            log.error("skipping a malformed %s message: %s", event_type.__name__, exc)
            return
        next_event = await use_case(ctx, event)
        if next_event is not None:
            await publish(broker, next_event, name)

    app = FastStream(broker)

    @app.on_startup
    async def create_topics() -> None:
        await ensure_topics(settings.kafka_bootstrap_servers, settings.topic_partitions)

    @app.after_startup
    async def start_background() -> None:
        if background is not None:
            tasks.append(asyncio.create_task(background(ctx), name=f"{name}-background"))

    @app.on_shutdown
    async def stop_background() -> None:
        for task in tasks:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    @app.after_shutdown
    async def close_clients() -> None:
        await http.aclose()
        await engine.dispose()

    return app


def run(app: FastStream) -> None:
    asyncio.run(app.run())
