"""The gateway in the test's own process, on the real broker and database, and plain SQL next to it.

For integration tests that talk to the gateway through `httpx` without a port (ASGI), and look at or
change the database behind its back.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from common.db.models import Client
from common.db.session import make_engine, make_sessionmaker
from common.settings import Settings
from fastapi import FastAPI
from gateway import keys
from gateway.main import create_app

MEDIA_DIR = Path(tempfile.gettempdir()) / f"dancer-test-media-{os.getpid()}"
CLIENT_TIMEOUT_S = 60  # generous: some tests race many requests through one in-process gateway


def gateway_settings(kafka: str, database_url: str, **overrides: Any) -> Settings:
    """The gateway's settings for these servers (three partitions a topic, the media store in a folder
    of this test process), with `overrides` on top."""
    defaults: dict[str, Any] = {"topic_partitions": 3, "media_dir": str(MEDIA_DIR)}
    return Settings(kafka_bootstrap_servers=kafka, database_url=database_url, **(defaults | overrides))


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start `app` (its lifespan: pools, producer, relay) and yield a client that calls it in process."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://gw", timeout=CLIENT_TIMEOUT_S) as client,
    ):
        yield client


@asynccontextmanager
async def in_process_gateway(
    kafka: str, database_url: str, **settings_overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway on these servers (`settings_overrides` as in `gateway_settings`), started; its client."""
    async with serving(create_app(gateway_settings(kafka, database_url, **settings_overrides))) as client:
        yield client


def asyncpg_url(database_url: str) -> str:
    """The SQLAlchemy URL `postgresql+asyncpg://...` as asyncpg itself takes it."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


async def sql(database_url: str, statement: str, *args: Any) -> list[asyncpg.Record]:
    """Run one statement on its own connection; the rows it returns (none for most writes)."""
    connection = await asyncpg.connect(asyncpg_url(database_url))
    try:
        return list(await connection.fetch(statement, *args))
    finally:
        await connection.close()


async def sql_count(database_url: str, statement: str, *args: Any) -> int:
    """The first column of the one row `statement` returns, as an int (for `SELECT count(*) ...`)."""
    [row] = await sql(database_url, statement, *args)
    return int(row[0])


async def new_api_client(database_url: str, name: str = "client", **limits: Any) -> tuple[Client, str]:
    """A new client of access mode `keys`, made by the operator CLI's own function: it and its key."""
    engine = make_engine(database_url, pool_size=1)
    try:
        return await keys.create_client(make_sessionmaker(engine), name, **limits)
    finally:
        await engine.dispose()
