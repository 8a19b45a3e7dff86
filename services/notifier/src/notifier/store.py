"""The webhook deliveries live in Postgres, so replicas share them and a restart loses nothing.

A delivery is due while `next_attempt_at <= now()`; claiming it pushes `next_attempt_at` out by a lease,
so a notifier killed mid-attempt leaves a claim that comes back by itself. Delivered and abandoned
deliveries have no `next_attempt_at` at all. Times are the database's, shared by every replica.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from common.db.models import WebhookAttempt, WebhookDelivery
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

JITTER = 0.1  # each wait is the backoff step plus or minus up to 10 %


@dataclass(frozen=True)
class DueDelivery:
    id: int
    webhook_id: str
    url: str
    payload: dict[str, Any]
    attempts: int  # made before this one
    created_at: datetime
    trace_context: dict[str, str] | None = None  # of the event's consumer (`common.tracing`)


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status code, or an error when there was no answer (or no request)."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks never to be sent this again (Standard Webhooks)."""
        return self.status_code == 410


def next_wait(attempts: int, backoff: list[float], jitter: float = JITTER) -> float:
    """Seconds to wait after `attempts` (>= 1) failed attempts: the i-th wait is backoff[min(i, len-1)]."""
    step = backoff[min(attempts - 1, len(backoff) - 1)] if backoff else 60.0
    return max(0.0, step * (1 + random.uniform(-jitter, jitter)))


class DeliveryStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def enqueue(
        self,
        *,
        webhook_id: str,
        generation_id: uuid.UUID,
        client_id: uuid.UUID | None,
        url: str,
        event_type: str,
        payload: dict[str, Any],
        trace_context: dict[str, str] | None = None,
    ) -> bool:
        """Add a delivery due now; False if this event was already queued for this URL (a redelivery)."""
        statement = (
            insert(WebhookDelivery)
            .values(
                webhook_id=webhook_id,
                generation_id=generation_id,
                client_id=client_id,
                url=url,
                event_type=event_type,
                payload=payload,
                trace_context=trace_context,
                next_attempt_at=func.now(),
            )
            .on_conflict_do_nothing(index_elements=["webhook_id", "url"])
            .returning(WebhookDelivery.id)
        )
        async with self._sessions.begin() as session:
            return (await session.scalar(statement)) is not None

    async def claim_due(self, limit: int, lease_seconds: float) -> list[DueDelivery]:
        """Up to `limit` due deliveries no other replica holds, each leased for `lease_seconds`."""
        if limit <= 0:
            return []
        due = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.next_attempt_at <= func.now(),
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.gave_up_at.is_(None),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(due))
            .values(next_attempt_at=func.now() + timedelta(seconds=lease_seconds))
            .returning(
                WebhookDelivery.id,
                WebhookDelivery.webhook_id,
                WebhookDelivery.url,
                WebhookDelivery.payload,
                WebhookDelivery.attempts,
                WebhookDelivery.created_at,
                WebhookDelivery.trace_context,
            )
        )
        async with self._sessions.begin() as session:
            rows = (await session.execute(statement)).all()
        return [
            DueDelivery(r.id, r.webhook_id, r.url, r.payload, r.attempts, r.created_at, r.trace_context)
            for r in rows
        ]

    async def record(
        self,
        due: DueDelivery,
        outcome: Outcome,
        attempted_at: datetime,
        backoff: list[float],
        give_up_seconds: float,
    ) -> str:
        """Store the attempt and what follows from it: `delivered`, `gave_up` or `retry`."""
        async with self._sessions.begin() as session:
            delivery = await session.get(WebhookDelivery, due.id, with_for_update=True)
            if delivery is None or delivery.delivered_at is not None or delivery.gave_up_at is not None:
                return "ended"  # another replica's attempt (after a lease ran out) settled it first
            now = cast(datetime, await session.scalar(select(func.now())))
            session.add(
                WebhookAttempt(
                    delivery_id=due.id,
                    attempted_at=attempted_at,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                )
            )
            delivery.attempts += 1
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error
            deadline = delivery.created_at + timedelta(seconds=give_up_seconds)
            if outcome.delivered:
                delivery.delivered_at, delivery.next_attempt_at = now, None
                return "delivered"
            if outcome.gone or now >= deadline:
                delivery.gave_up_at, delivery.next_attempt_at = now, None
                return "gave_up"
            wait = timedelta(seconds=next_wait(delivery.attempts, backoff))
            delivery.next_attempt_at = min(now + wait, deadline)  # one last try at the deadline
            return "retry"
