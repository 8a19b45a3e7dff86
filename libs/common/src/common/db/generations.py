"""The generation row every stage shares. A terminal row (e.g. CANCELED) is never changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.db.models import TERMINAL, Asset, Generation, Status
from common.events import FailedStage, GenerationFailed


def now() -> datetime:
    return datetime.now(UTC)


class GenerationStore(Protocol):
    async def load(self, generation_id: uuid.UUID) -> Generation | None: ...

    async def load_asset(self, asset_id: uuid.UUID) -> Asset | None: ...

    async def record(self, generation_id: uuid.UUID, *, status: Status | None = None, **facts: Any) -> bool:
        """Store facts (and a status) unless the generation already ended; say whether it did."""
        ...


class SqlGenerationStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def load(self, generation_id: uuid.UUID) -> Generation | None:
        async with self._sessions() as session:
            return await session.get(Generation, generation_id)

    async def load_asset(self, asset_id: uuid.UUID) -> Asset | None:
        async with self._sessions() as session:
            return await session.get(Asset, asset_id)

    async def record(self, generation_id: uuid.UUID, *, status: Status | None = None, **facts: Any) -> bool:
        values = dict(facts, updated_at=now())
        if status is not None:
            values["status"] = status
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Generation)
                .where(Generation.id == generation_id, Generation.status.not_in(TERMINAL))
                .values(**values)
                .returning(Generation.id)
            )
            return result.scalar_one_or_none() is not None


async def fail(
    store: GenerationStore, generation_id: uuid.UUID, stage: FailedStage, code: str, message: str
) -> GenerationFailed | None:
    """End a generation as FAILED with a reason the user can act on; None if it had already ended."""
    changed = await store.record(
        generation_id,
        status=Status.FAILED,
        stage=stage,
        error_code=code,
        error_message=message,
        finished_at=now(),
    )
    if not changed:
        return None
    return GenerationFailed(generation_id=generation_id, stage=stage, code=code, message=message)
