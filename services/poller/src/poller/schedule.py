"""The poll schedule lives in the generation rows, so replicas share it and a restart loses nothing.

Job status queries are limited per provider account by a token bucket row (`<provider>-task-queries`)
that every replica takes from in the same transaction as its claim, so all replicas together stay under
that provider's rate (`POLL_RATE_PER_SECOND` for DashScope).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from common import outbox, tracing
from common.db.generations import SqlGenerationStore, now
from common.db.models import TERMINAL, Generation, Status
from common.events import VideoRendered
from common.public_events import terminal_event
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

_ENSURE_BUCKET = text(
    "INSERT INTO rate_limits (name, tokens, updated_at) VALUES (:name, :burst, clock_timestamp()) "
    "ON CONFLICT (name) DO NOTHING"
)
_AVAILABLE = text(
    "SELECT least(:burst, tokens + :rate * extract(epoch FROM clock_timestamp() - updated_at)) "
    "FROM rate_limits WHERE name = :name FOR UPDATE"
)
_SPEND = text("UPDATE rate_limits SET tokens = :left, updated_at = clock_timestamp() WHERE name = :name")
# Claim due tasks and push their next poll out; the interval doubles every 3 polls up to 8x the base.
_CLAIM = text(
    """
    UPDATE generations AS g
       SET next_poll_at = now() + make_interval(secs => least(:base * power(2, g.poll_count / 3), :base * 8)),
           poll_count = g.poll_count + 1
     WHERE g.id IN (
           SELECT id FROM generations
            WHERE next_poll_at <= now() AND status IN ('PENDING', 'RUNNING') AND task_id IS NOT NULL
              AND provider = :provider
            ORDER BY next_poll_at
            LIMIT :limit
              FOR UPDATE SKIP LOCKED)
    RETURNING g.id, g.task_id, g.provider, g.template_id, g.trace_context
    """
)
# The tasks watched, and how long the most overdue one has been due (0 when none is); by next_poll_at's index.
_SIZE_AND_LAG = text(
    """
    SELECT count(*) AS size, coalesce(extract(epoch FROM now() - min(next_poll_at)), 0) AS lag
      FROM generations
     WHERE next_poll_at IS NOT NULL AND status IN ('PENDING', 'RUNNING') AND task_id IS NOT NULL
    """
)
_CANCELS = text(
    """
    UPDATE generations SET provider_cancel_due = false
     WHERE id IN (SELECT id FROM generations WHERE provider_cancel_due LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING id, task_id, provider, trace_context
    """
)


@dataclass(frozen=True)
class DueTask:
    generation_id: uuid.UUID
    task_id: str
    provider: str = "dashscope"
    template_id: str = ""
    trace_context: dict[str, str] | None = None  # of the work that started watching it


class PollSchedule:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], base_interval: float, rates: Mapping[str, float]
    ) -> None:
        """`rates`: each provider's job status queries per second, for its whole account."""
        self._sessions = sessions
        self._base = base_interval
        self._rates = dict(rates)

    async def start_watching(self, generation_id: uuid.UUID, task_id: str) -> None:
        """Record a submitted task as due now (idempotent: a redelivery changes nothing)."""
        async with self._sessions.begin() as session:
            generation = await session.get(Generation, generation_id, with_for_update=True)
            if generation is None or generation.next_poll_at is not None or generation.status in TERMINAL:
                return
            generation.task_id = generation.task_id or task_id
            # QUEUED: an operator's retry whose provider job is kept (`dancer-admin retry`) comes back here
            if generation.status in (Status.QUEUED, Status.SUBMITTING, Status.PENDING):
                generation.status = Status.PENDING
            generation.next_poll_at = now()
            generation.trace_context = tracing.carrier()  # its polls and its end go on in this trace

    async def claim_due(self, limit: int) -> list[DueTask]:
        """Due tasks of every provider, as many as each provider account's query budget allows now."""
        due: list[DueTask] = []
        for provider, rate in self._rates.items():
            due += await self._claim_due(provider, rate, limit)
        return due

    async def _claim_due(self, provider: str, rate: float, limit: int) -> list[DueTask]:
        params = {"name": f"{provider}-task-queries", "rate": rate, "burst": max(1.0, rate / 5)}
        async with self._sessions.begin() as session:
            await session.execute(_ENSURE_BUCKET, params)
            available = float(await session.scalar(_AVAILABLE, params) or 0)
            budget = min(limit, math.floor(available))
            if budget <= 0:
                return []
            claim = {"base": self._base, "limit": budget, "provider": provider}
            rows = (await session.execute(_CLAIM, claim)).all()
            await session.execute(_SPEND, {**params, "left": available - len(rows)})
            return [
                DueTask(row.id, row.task_id, row.provider, row.template_id, row.trace_context) for row in rows
            ]

    async def size_and_lag(self) -> tuple[int, float]:
        """How many tasks are watched, and how many seconds the most overdue query is late (0: none)."""
        async with self._sessions() as session:
            row = (await session.execute(_SIZE_AND_LAG)).one()
        return int(row.size), max(0.0, float(row.lag))

    async def time_out_overdue(self, deadline_seconds: float) -> int:
        message = f"No result from the provider within {deadline_seconds / 60:.0f} minutes."
        at = now()
        async with self._sessions.begin() as session:
            overdue = (
                await session.scalars(
                    select(Generation)
                    .where(
                        Generation.status.in_((Status.PENDING, Status.RUNNING)),
                        Generation.submitted_at < at - timedelta(seconds=deadline_seconds),
                    )
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for g in overdue:
                g.status, g.stage, g.next_poll_at = Status.TIMED_OUT, "poller", None
                g.finished_at = g.updated_at = at
                g.error_code, g.error_message = "TimedOut", message
                with tracing.resumed(g.trace_context, "poller timeout", g.id):
                    outbox.add(session, terminal_event(g, retryable=True), "poller")
            return len(overdue)

    async def claim_cancels(self, limit: int) -> list[DueTask]:
        async with self._sessions.begin() as session:
            rows = (await session.execute(_CANCELS, {"limit": limit})).all()
            return [
                DueTask(row.id, row.task_id, row.provider, trace_context=row.trace_context)
                for row in rows
                if row.task_id
            ]

    async def cancel_failed(self, generation_id: uuid.UUID) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Generation).where(Generation.id == generation_id).values(provider_cancel_due=True)
            )


class SqlWatchedGenerations(SqlGenerationStore):
    """The generation store plus `rendered`: the provider's video and the archiver's event, atomically."""

    async def count_retry(self, generation_id: uuid.UUID) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Generation)
                .where(Generation.id == generation_id)
                .values(retries=Generation.retries + 1)
            )

    async def rendered(self, event: VideoRendered, **facts: Any) -> bool:
        async with self._sessions.begin() as session:
            changed = await session.scalar(
                update(Generation)
                .where(Generation.id == event.generation_id, Generation.status.not_in(TERMINAL))
                .values(updated_at=now(), **facts)
                .returning(Generation.id)
            )
            if changed is not None:
                outbox.add(session, event, "poller")
            return changed is not None
