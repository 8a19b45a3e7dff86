"""The generation row every stage shares. A terminal row (e.g. CANCELED) is never changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import outbox
from common.db.models import TERMINAL, Asset, Generation, Status
from common.events import FailedStage
from common.faults import AFTER_END, crash_point
from common.public_events import terminal_event


def now() -> datetime:
    return datetime.now(UTC)


class GenerationStore(Protocol):
    async def load(self, generation_id: uuid.UUID) -> Generation | None: ...

    async def load_asset(self, asset_id: uuid.UUID) -> Asset | None: ...

    async def record(self, generation_id: uuid.UUID, *, status: Status | None = None, **facts: Any) -> bool:
        """Store facts (and a status) unless the generation already ended; say whether it did."""
        ...

    async def end(
        self,
        generation_id: uuid.UUID,
        status: Status,
        stage: str,
        *,
        retryable: bool = False,
        links: dict[str, str] | None = None,
        **facts: Any,
    ) -> bool:
        """End the generation with `facts` and store its public event, atomically; False (and nothing
        stored) when it had already ended, e.g. was canceled."""
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

    async def end(
        self,
        generation_id: uuid.UUID,
        status: Status,
        stage: str,
        *,
        retryable: bool = False,
        links: dict[str, str] | None = None,
        **facts: Any,
    ) -> bool:
        at = now()
        async with self._sessions.begin() as session:
            ended = await session.scalar(
                update(Generation)
                .where(Generation.id == generation_id, Generation.status.not_in(TERMINAL))
                .values(status=status, stage=stage, finished_at=at, updated_at=at, next_poll_at=None, **facts)
                .returning(Generation)
            )
            if ended is None:
                return False
            outbox.add(session, terminal_event(ended, retryable=retryable, **(links or {})), stage)
        crash_point(AFTER_END)
        return True


async def fail(
    store: GenerationStore,
    generation_id: uuid.UUID,
    stage: FailedStage,
    code: str,
    message: str,
    *,
    retryable: bool = False,
) -> None:
    """End a generation as FAILED with a reason the user can act on, announced through the outbox
    (nothing happens if it had already ended). The stage's next event is therefore: none."""
    await store.end(
        generation_id, Status.FAILED, stage, retryable=retryable, error_code=code, error_message=message
    )
