"""The real database and broker of the operator's tools, and generations made the product's own way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from common.db.session import make_engine, make_sessionmaker
from common.messaging import ensure_topics
from common.settings import Settings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tools.admin.tests.integration.support import Rows, admin


@pytest.fixture
async def settings(database_url: str, kafka_bootstrap_servers: str) -> Settings:
    config = Settings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers, topic_partitions=3
    )
    await ensure_topics(config)
    return config


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def rows(sessions: async_sessionmaker[AsyncSession]) -> Rows:
    return Rows(sessions)


@pytest.fixture
def dancer_admin(settings: Settings) -> Any:
    async def call(*argv: str) -> tuple[int, str]:
        return await admin(settings, *argv)

    return call
