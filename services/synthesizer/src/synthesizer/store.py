"""Postgres side of submissions: an advisory lock per provider account and the job bookkeeping."""

from __future__ import annotations

import asyncio
import uuid
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from common.db.generations import now
from common.db.models import TERMINAL, Generation, Status
from common.providers.ports import Job
from sqlalchemy import case, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synthesizer.ports import OpenIntent

SUBMIT_LOCK = 0x5AB417  # pg_advisory_lock key space: "video job submissions of this provider account"
# Only one task per process and provider waits for the database lock, holding one pooled connection; the
# others wait here, so the holder always finds a free connection for its own work.
_IN_PROCESS: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)


def lock_key(provider: str) -> int:
    return (SUBMIT_LOCK << 32) | zlib.crc32(provider.encode())


class SqlSubmissions:
    """The submissions of one provider's account (`provider`: `Generation.provider`)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], provider: str) -> None:
        self._sessions = sessions
        self._provider = provider
        self._key = lock_key(provider)

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        # A session-level lock on a dedicated connection: released at unlock, or when a crash closes it.
        async with _IN_PROCESS[self._provider], self._sessions() as session:
            connection = await session.connection()
            # Waiting for the account's turn is no stuck statement: no DATABASE_STATEMENT_TIMEOUT_MS for it
            # (SET LOCAL: this session's transaction only, which ends when the block does).
            await connection.execute(text("SET LOCAL statement_timeout = 0"))
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self._key})
            try:
                yield
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})

    async def known_task_ids(self, task_ids: list[str]) -> set[str]:
        if not task_ids:
            return set()
        async with self._sessions() as session:
            rows = await session.scalars(select(Generation.task_id).where(Generation.task_id.in_(task_ids)))
            # and jobs an operator's retry replaced (`dancer-admin retry`): still their generation's
            replaced = await session.scalars(
                select(func.unnest(Generation.previous_task_ids)).where(
                    Generation.previous_task_ids.overlap(task_ids)
                )
            )
            return {t for t in rows if t} | {t for t in replaced if t in task_ids}

    async def attach_task(self, generation_id: object, job: Job) -> bool:
        ended = Generation.status.in_(TERMINAL)
        async with self._sessions.begin() as session:
            status = await session.scalar(
                update(Generation)
                .where(Generation.id == generation_id)
                .values(
                    task_id=job.id,
                    task_status=job.status,
                    submit_request_id=job.request_id,
                    submitted_at=now(),
                    updated_at=now(),
                    status=case((ended, Generation.status), else_=Status.PENDING.value),
                    provider_cancel_due=ended,  # ended meanwhile (canceled, or failed unsure): stop the job
                )
                .returning(Generation.status)
            )
        return status is not None and status not in TERMINAL

    async def open_intent(self) -> OpenIntent | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(Generation.id, Generation.submit_intent_at)
                    .where(
                        Generation.provider == self._provider,
                        Generation.submit_intent_at.is_not(None),
                        Generation.task_id.is_(None),
                    )
                    .order_by(Generation.submit_intent_at)
                    .limit(1)
                )
            ).first()
        return None if row is None or row[1] is None else OpenIntent(row[0], row[1])

    async def close_intent(self, generation_id: uuid.UUID) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Generation).where(Generation.id == generation_id).values(submit_intent_at=None)
            )
