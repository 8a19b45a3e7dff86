"""The poll schedule lives in the generation rows, so replicas share it and a restart loses nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from common.db.generations import now
from common.db.models import Generation, Status
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Claim due tasks and push their next poll out in one statement; SKIP LOCKED lets replicas
# claim disjoint rows. The interval doubles every 3 polls up to 8x the base (as the SDK does).
_CLAIM = text(
    """
    UPDATE generations AS g
       SET next_poll_at = now() + make_interval(secs => least(:base * power(2, g.poll_count / 3), :base * 8)),
           poll_count = g.poll_count + 1
     WHERE g.id IN (
           SELECT id FROM generations
            WHERE next_poll_at <= now() AND status IN ('PENDING', 'RUNNING') AND task_id IS NOT NULL
            ORDER BY next_poll_at
            LIMIT :limit
              FOR UPDATE SKIP LOCKED)
    RETURNING g.id, g.task_id
    """
)


@dataclass(frozen=True)
class DueTask:
    generation_id: uuid.UUID
    task_id: str


class PollSchedule:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], base_interval: float) -> None:
        self._sessions = sessions
        self._base = base_interval

    async def start_watching(self, generation_id: uuid.UUID, task_id: str) -> None:
        """Record a submitted task as due now (idempotent: a redelivery changes nothing)."""
        async with self._sessions.begin() as session:
            generation = await session.get(Generation, generation_id, with_for_update=True)
            if generation is None or generation.next_poll_at is not None:
                return
            if generation.status not in (Status.PENDING, Status.RUNNING, Status.SUBMITTING):
                return
            generation.task_id = generation.task_id or task_id
            generation.status = (
                Status.PENDING if generation.status == Status.SUBMITTING else generation.status
            )
            generation.next_poll_at = now()

    async def claim_due(self, limit: int) -> list[DueTask]:
        async with self._sessions.begin() as session:
            rows = await session.execute(_CLAIM, {"base": self._base, "limit": limit})
            return [DueTask(row.id, row.task_id) for row in rows]
