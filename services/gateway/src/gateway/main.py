"""gateway: the REST API. Stores each request with its event; the outbox relay publishes it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import uvicorn
from common import logging as service_logging
from common import metrics, tracing
from common.db.session import make_engine, make_sessionmaker
from common.media import make_media_store
from common.messaging import ensure_topics, make_broker
from common.outbox import Relay
from common.settings import Settings, load_settings
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from gateway import (
    api,
    create,
    deliveries,
    errors,
    media,
    observability,
    openapi,
    problem_pages,
    provider_callbacks,
    status_events,
    usage,
)
from gateway.body_limit import BodyLimit
from gateway.catalogue import Catalogue
from gateway.idempotency import forget_expired_forever
from gateway.schemas_route import router as event_schemas_router
from gateway.status_hub import StatusHub

NAME = "gateway"
DESCRIPTION = (
    "Turns a person's photo into a dancing video. Errors are `application/problem+json` (RFC 9457); "
    "each `type` is documented at `/problems/<code>`."
)
EXPOSED_HEADERS = ["Location", "Retry-After", "Idempotent-Replayed", "X-Request-Id"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings, pool_size=2 * settings.database_pool_size)
        broker = make_broker(settings, client_id=NAME)
        tracing.instrument_broker(broker)
        broker.add_middleware(metrics.kafka_middleware(NAME))
        if settings.create_topics_at_start:  # else the setup job (`python -m common.setup`) made them
            await ensure_topics(settings)
        await broker.connect()
        sessions = make_sessionmaker(engine)
        app.state.engine, app.state.broker = engine, broker  # for /readyz
        app.state.sessions = sessions
        app.state.catalogue = Catalogue(sessions)
        app.state.status_hub = hub = StatusHub(settings.database_url)
        await hub.start()
        app.state.media = media_store = make_media_store(settings)  # an S3 store connects on first use
        app.state.relay = relay = Relay(sessions, broker, schema_base=settings.public_base_url)
        tasks = [
            asyncio.create_task(relay.run(), name="outbox-relay"),
            asyncio.create_task(
                forget_expired_forever(sessions, settings.idempotency_ttl_seconds), name="idempotency-keys"
            ),
            asyncio.create_task(metrics.sample_forever([relay.sample]), name="outbox-metrics"),
            asyncio.create_task(
                metrics.sample_forever(
                    [observability.generations_sampler(sessions)], observability.GENERATIONS_SAMPLE_SECONDS
                ),
                name="generation-metrics",
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await broker.stop()
            await hub.stop()
            await media_store.close()
            await engine.dispose()
            await tracing.flush()

    app = FastAPI(
        title="Dance video generation API", version="0.2.0", description=DESCRIPTION, lifespan=lifespan
    )
    app.state.settings = settings
    errors.install(app)
    app.include_router(create.router)
    app.include_router(api.router)
    app.include_router(status_events.router)
    app.include_router(deliveries.router)
    app.include_router(media.router)
    app.include_router(problem_pages.router)
    app.include_router(event_schemas_router)
    app.include_router(provider_callbacks.router)
    app.include_router(usage.router)
    openapi.install(app, settings)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Idempotency-Key", "Last-Event-ID"],
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    observability.install(app)  # /healthz, /readyz, /metrics; its HTTP metrics middleware goes outermost
    observability.trace(app, tracing.configure(NAME, settings))
    return app


def main() -> None:
    host = os.environ.get("GATEWAY_HOST", "127.0.0.1")
    port = int(os.environ.get("GATEWAY_PORT", "8000"))
    settings = load_settings()
    service_logging.configure(NAME, settings)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,  # uvicorn's lines go through the process's own logging (JSON, no secrets)
        log_level="info",
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
    )
