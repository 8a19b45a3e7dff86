"""The account's submit lock on the real database: waiting for one's turn is not cut off by the
statement timeout every other statement has."""

from __future__ import annotations

import asyncio

import pytest
from common.db.session import make_engine, make_sessionmaker
from common.settings import Settings
from sqlalchemy import text
from synthesizer.store import SqlSubmissions, lock_key

pytestmark = pytest.mark.integration


async def test_a_wait_for_the_lock_outlasts_the_statement_timeout(database_url: str) -> None:
    settings = Settings(database_url=database_url, database_statement_timeout_ms=100)
    replica, other_replica = make_engine(settings), make_engine(settings)
    order: list[str] = []

    async def other_replica_submits() -> None:
        async with other_replica.connect() as connection:
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key("dashscope")})
            order.append("other in")
            await asyncio.sleep(0.5)  # 5x the statement timeout
            order.append("other out")
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key("dashscope")})

    async def this_replica_waits_its_turn() -> None:
        await asyncio.sleep(0.1)
        async with SqlSubmissions(make_sessionmaker(replica), "dashscope").exclusive():
            order.append("this in")

    try:
        await asyncio.gather(other_replica_submits(), this_replica_waits_its_turn())
    finally:
        await replica.dispose()
        await other_replica.dispose()
    assert order == ["other in", "other out", "this in"]
