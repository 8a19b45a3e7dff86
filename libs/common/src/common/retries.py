"""Retries kept in Postgres: a stage that meets a retryable provider error stores the event with a
due time and moves on, so one slow generation never blocks the others on its partition.

A claimed retry is leased (its due time pushed out), so a crash mid-attempt only delays it.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.db.generations import now
from common.db.models import Generation, StageRetry

LEASE_SECONDS = 60

_COUNTS = text(
    "SELECT count(*) FILTER (WHERE due_at <= now()) AS due, "
    "count(*) FILTER (WHERE due_at > now()) AS waiting FROM stage_retries WHERE stage = :stage"
)
_CLAIM = text(
    """
    UPDATE stage_retries AS r SET due_at = now() + make_interval(secs => :lease)
     WHERE r.id IN (SELECT id FROM stage_retries WHERE stage = :stage AND due_at <= now()
                     ORDER BY due_at LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING r.generation_id, r.payload, r.attempts, r.errors, r.trace_context
    """
)


@dataclass(frozen=True)
class DueRetry:
    generation_id: uuid.UUID
    payload: dict[str, Any]
    attempts: int
    errors: int
    trace_context: dict[str, str] | None = None  # of the attempt that failed (`common.tracing`)


def backoff(attempts: int, base: float, cap: float, hint: float | None = None) -> float:
    """Jittered exponential backoff; a provider's own hint (Retry-After) is a floor."""
    delay = min(cap, base * 2 ** (attempts - 1)) * random.uniform(0.5, 1.0)
    return float(max(delay, hint or 0.0))


class RetryStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], stage: str) -> None:
        self._sessions = sessions
        self._stage = stage

    async def schedule(
        self,
        generation_id: uuid.UUID,
        payload: dict[str, Any],
        attempts: int,
        errors: int,
        delay: float,
        code: str,
        message: str,
        trace_context: dict[str, str] | None = None,
    ) -> None:
        values = {
            "stage": self._stage,
            "generation_id": generation_id,
            "payload": payload,
            "attempts": attempts,
            "errors": errors,
            "due_at": now() + timedelta(seconds=delay),
            "last_code": code,
            "last_message": message,
            "trace_context": trace_context,
        }
        statement = insert(StageRetry).values(**values)
        statement = statement.on_conflict_do_update(constraint="stage_retries_one_per_stage", set_=values)
        async with self._sessions.begin() as session:
            await session.execute(statement)
            await session.execute(
                update(Generation)
                .where(Generation.id == generation_id)
                .values(retries=Generation.retries + 1)
            )

    async def claim_due(self, limit: int) -> list[DueRetry]:
        async with self._sessions.begin() as session:
            rows = await session.execute(
                _CLAIM, {"stage": self._stage, "limit": limit, "lease": LEASE_SECONDS}
            )
            return [DueRetry(r.generation_id, r.payload, r.attempts, r.errors, r.trace_context) for r in rows]

    async def counts(self) -> tuple[int, int]:
        """How many of this stage's retries are due now, and how many wait for their time."""
        async with self._sessions() as session:
            row = (await session.execute(_COUNTS, {"stage": self._stage})).one()
            return int(row.due), int(row.waiting)

    async def done(self, generation_id: uuid.UUID) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(StageRetry).where(
                    StageRetry.stage == self._stage, StageRetry.generation_id == generation_id
                )
            )
