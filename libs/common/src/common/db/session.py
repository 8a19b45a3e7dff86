"""Engine and session factory, created by a composition root, never at import time."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from common.settings import Settings


def make_engine(database: Settings | str, pool_size: int | None = None) -> AsyncEngine:
    """An engine for `database`: the settings (pool size `DATABASE_POOL_SIZE` unless `pool_size` says,
    and every statement cut off after `DATABASE_STATEMENT_TIMEOUT_MS`), or a bare URL (a test's: no
    statement timeout)."""
    connect_args: dict[str, Any] = {}
    if isinstance(database, str):
        url, size = database, pool_size or 5
    else:
        url, size = database.database_url, pool_size or database.database_pool_size
        if database.database_statement_timeout_ms > 0:
            # asyncpg sends these as the session's settings when it connects: one per connection.
            timeout = str(database.database_statement_timeout_ms)
            connect_args["server_settings"] = {"statement_timeout": timeout}
    return create_async_engine(url, pool_size=size, pool_pre_ping=True, connect_args=connect_args)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
