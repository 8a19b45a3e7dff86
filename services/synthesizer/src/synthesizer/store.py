"""Postgres side of submissions: an advisory lock for the account and the task bookkeeping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from common.db.generations import now
from common.db.models import TERMINAL, Generation, Status
from common.providers.dashscope import SubmittedTask
from sqlalchemy import case, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SUBMIT_LOCK = 0x5AB417  # pg_advisory_lock key: "synthesis submissions of this account"


class SqlSubmissions:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        # A session-level lock on a dedicated connection: released at unlock, or when a crash closes it.
        async with self._sessions() as session:
            connection = await session.connection()
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SUBMIT_LOCK})
            try:
                yield
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SUBMIT_LOCK})

    async def known_task_ids(self, task_ids: list[str]) -> set[str]:
        if not task_ids:
            return set()
        async with self._sessions() as session:
            rows = await session.scalars(select(Generation.task_id).where(Generation.task_id.in_(task_ids)))
            return {t for t in rows if t}

    async def attach_task(self, generation_id: object, task: SubmittedTask) -> bool:
        ended = Generation.status.in_(TERMINAL)
        async with self._sessions.begin() as session:
            status = await session.scalar(
                update(Generation)
                .where(Generation.id == generation_id)
                .values(
                    task_id=task.task_id,
                    task_status=task.task_status,
                    submit_request_id=task.request_id,
                    submitted_at=now(),
                    updated_at=now(),
                    status=case((ended, Generation.status), else_=Status.PENDING.value),
                    provider_cancel_due=Generation.status == Status.CANCELED.value,
                )
                .returning(Generation.status)
            )
        return status is not None and status not in TERMINAL
