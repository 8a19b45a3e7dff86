"""Transactional outbox: events are stored with the facts they announce, then relayed to Kafka.

A broker outage delays events and never loses them: a record stays unpublished until the broker
has acknowledged it. Several relays (gateway replicas) share the table through SKIP LOCKED; per
generation order holds because records are sent in id order and a generation's events share a key.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from faststream.kafka import KafkaBroker
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import metrics, tracing
from common.db.models import OutboxRecord
from common.events import Event
from common.messaging import cloudevent_headers, schema_path

log = logging.getLogger(__name__)
# The backlog and the age of its oldest record; both read the partial index of unpublished records.
_BACKLOG = text(
    "SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS backlog, "
    "coalesce(extract(epoch FROM now() - (SELECT created_at FROM outbox WHERE published_at IS NULL "
    "ORDER BY id LIMIT 1)), 0) AS oldest"
)


def add(session: AsyncSession, event: Event, source: str) -> None:
    """Store `event` in the caller's transaction; the relay publishes it after the commit."""
    session.add(
        OutboxRecord(
            topic=event.topic,
            key=str(event.generation_id),
            payload=event.model_dump(mode="json"),
            headers=cloudevent_headers(event, source) | tracing.carrier(),  # the event's trace goes on
        )
    )


class Relay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: KafkaBroker,
        schema_base: str = "",
        batch: int = 200,
    ) -> None:
        self._sessions = sessions
        self._broker = broker
        self._schema_base = schema_base.rstrip("/")
        self._batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was just committed: relay now instead of at the next tick."""
        self._wake.set()

    async def relay_once(self) -> int:
        async with self._sessions.begin() as session:
            records = (
                await session.scalars(
                    select(OutboxRecord)
                    .where(OutboxRecord.published_at.is_(None))
                    .order_by(OutboxRecord.id)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not records:
                return 0
            # Sent together, acknowledged together: the producer batches them and keeps their order.
            await asyncio.gather(*(self._publish(r) for r in records))
            ids = [r.id for r in records]
            await session.execute(
                update(OutboxRecord).where(OutboxRecord.id.in_(ids)).values(published_at=func.now())
            )
        for r in records:  # counted once committed
            metrics.OUTBOX_PUBLISHED.labels(r.topic).inc()
        return len(records)

    async def _publish(self, record: OutboxRecord) -> None:
        with tracing.attached(record.headers):  # in the trace of the work that stored it
            await self._broker.publish(
                record.payload,
                topic=record.topic,
                key=record.key.encode(),
                headers=self._headers(record.headers),
            )

    async def sample(self) -> None:
        """The outbox gauges (run by the metrics loop every few seconds, not per relay round)."""
        async with self._sessions() as session:
            row = (await session.execute(_BACKLOG)).one()
        metrics.OUTBOX_BACKLOG.set(int(row.backlog))
        metrics.OUTBOX_OLDEST_AGE_SECONDS.set(max(0.0, float(row.oldest)))

    def _headers(self, stored: dict[str, str]) -> dict[str, str]:
        """The stored headers plus `ce_dataschema`, the JSON Schema's address in this deployment."""
        if not self._schema_base or "ce_type" not in stored:
            return dict(stored)  # a copy: the publish adds its own headers to it
        return {**stored, "ce_dataschema": self._schema_base + schema_path(stored["ce_type"])}

    async def run(self, idle_seconds: float = 0.5) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                sent = await self.relay_once()
                failures = 0
            except Exception as exc:  # broker or database down: keep the records, try again later
                failures += 1
                sent = 0
                log.warning("outbox relay failed (%s attempt): %r", failures, exc)
            if sent == 0:
                delay = idle_seconds if failures == 0 else min(5.0, 0.2 * 2**failures)
                # Not wait_for: on 3.11 it swallows a cancel that lands just as the wait ends.
                with suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
