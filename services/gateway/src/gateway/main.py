"""gateway: the REST API. Stores each request with its event; the outbox relay publishes it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import uvicorn
from common import logging as service_logging
from common.db.session import make_engine, make_sessionmaker
from common.messaging import ensure_topics, make_broker
from common.outbox import Relay
from common.settings import Settings, load_settings
from fastapi import FastAPI

from gateway import api, errors

NAME = "gateway"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, pool_size=10)
        broker = make_broker(settings.kafka_bootstrap_servers, client_id=NAME)
        await ensure_topics(settings.kafka_bootstrap_servers, settings.topic_partitions)
        await broker.connect()
        sessions = make_sessionmaker(engine)
        app.state.settings = settings
        app.state.sessions = sessions
        app.state.relay = relay = Relay(sessions, broker)
        relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        try:
            yield
        finally:
            relay_task.cancel()
            with suppress(asyncio.CancelledError):
                await relay_task
            await broker.stop()
            await engine.dispose()

    app = FastAPI(title="Dance video generation API", version="0.1.0", lifespan=lifespan)
    errors.install(app)
    app.include_router(api.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    service_logging.configure(NAME)
    host = os.environ.get("GATEWAY_HOST", "127.0.0.1")
    port = int(os.environ.get("GATEWAY_PORT", "8000"))
    settings = load_settings()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
    )
