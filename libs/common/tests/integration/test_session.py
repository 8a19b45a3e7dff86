"""The engine every process makes from the settings: its pool size, and a statement timeout that cuts off
a query running too long (a stuck query fails instead of holding a connection forever)."""

from __future__ import annotations

import pytest
from common.db.session import make_engine
from common.settings import Settings
from common.stage import is_infrastructure
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

pytestmark = pytest.mark.integration


async def test_a_statement_longer_than_the_timeout_fails(database_url: str) -> None:
    engine = make_engine(Settings(database_url=database_url, database_statement_timeout_ms=200))
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1 FROM pg_sleep(0.05)")) == 1  # within it: fine
            assert await connection.scalar(text("SHOW statement_timeout")) == "200ms"
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError, match="statement timeout") as canceled:
                await connection.execute(text("SELECT pg_sleep(2)"))
        # A stage hands such a message back for later (like an outage), instead of dead-lettering it.
        assert is_infrastructure(canceled.value)
    finally:
        await engine.dispose()


async def test_no_timeout_when_it_is_zero_and_the_pool_has_the_configured_size(database_url: str) -> None:
    engine = make_engine(
        Settings(database_url=database_url, database_statement_timeout_ms=0, database_pool_size=7)
    )
    try:
        assert engine.pool.size() == 7  # type: ignore[attr-defined]
        async with engine.connect() as connection:
            assert await connection.scalar(text("SHOW statement_timeout")) == "0"
    finally:
        await engine.dispose()
    assert make_engine(Settings(database_url=database_url), pool_size=2).pool.size() == 2  # type: ignore[attr-defined]
