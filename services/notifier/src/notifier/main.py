"""notifier: signed webhooks (Standard Webhooks) on every terminal state of a generation.

On each public event (`generation.completed|failed|canceled`) of a generation with a callback URL, one
delivery row is stored, keyed by the event's `ce_id` and the URL, so a redelivered event never makes a
second delivery; then the offset commits. A background loop claims due deliveries (`FOR UPDATE SKIP
LOCKED`, under a lease, so replicas share them and a killed notifier's claim comes back), POSTs each
one signed, and records every attempt; failures are tried again on `WEBHOOK_BACKOFF_SECONDS` until
`WEBHOOK_GIVE_UP_SECONDS` after the event, or at once given up on 410 Gone. Delivery is at least once:
receivers dedupe on `webhook-id`. It never holds up the pipeline, which does not wait for it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import httpx
from common import dead_letter, metrics, topics, tracing
from common import logging as service_logging
from common.db.models import Generation
from common.db.session import make_engine, make_sessionmaker
from common.health import database_check
from common.service import Loop, consumer_app, consumer_broker
from common.settings import Settings, load_settings
from common.stage import is_infrastructure
from common.urls import RESOLVE_SECONDS
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.facts import generation_id_of, timestamp_of, webhook_id_of
from notifier.sender import Sender, UrlRules
from notifier.store import DeliveryStore, DueDelivery

NAME = "notifier"

DELIVERY_CONCURRENCY = 32  # attempts in flight per replica
IDLE_SECONDS = 0.5  # how often an idle replica looks for due deliveries (another's, or retries)
LEASE_MARGIN_SECONDS = 10.0
INFRA_PAUSE_SECONDS = 2.0
log = logging.getLogger(__name__)


class Notifier:
    def __init__(
        self,
        settings: Settings,
        broker: KafkaBroker,
        sessions: async_sessionmaker[AsyncSession],
        sender: Sender,
        concurrency: int = DELIVERY_CONCURRENCY,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.sessions = sessions
        self.store = DeliveryStore(sessions)
        self.sender = sender
        self.concurrency = concurrency
        self.lease_seconds = settings.webhook_timeout_seconds + RESOLVE_SECONDS + LEASE_MARGIN_SECONDS
        self.wake = asyncio.Event()

    # --- the consumer: one delivery row per (fact, URL) ---------------------------------------------
    async def on_event(self, message: KafkaMessage) -> None:
        record: Any = message.raw_message  # one ConsumerRecord (not a batch)
        topic: str = record.topic
        headers: dict[str, Any] = dict(message.headers)
        try:
            data = json.loads(message.body)
            if not isinstance(data, dict):
                raise ValueError("the event is not a JSON object")
            generation_id = generation_id_of(headers, data, record.key)
        except (ValueError, UnicodeDecodeError) as exc:
            with service_logging.log_context(stage=NAME):
                await self._dead_letter(record, message.body, exc)
            return
        tracing.tag(generation_id)
        metrics.STAGE_QUEUE_WAIT_SECONDS.labels(NAME).observe(_age_seconds(timestamp_of(headers, data)))
        with service_logging.log_context(generation_id=generation_id, stage=NAME):
            try:
                await self.enqueue(topic, headers, data, generation_id, message.body)
            except Exception as exc:
                if is_infrastructure(exc):
                    log.warning("infrastructure unavailable, handing the message back: %r", exc)
                    await asyncio.sleep(INFRA_PAUSE_SECONDS)
                    raise
                log.exception("could not queue the webhook of %s", generation_id)
                await self._dead_letter(record, message.body, exc)

    async def enqueue(
        self, topic: str, headers: dict[str, Any], data: dict[str, Any], generation_id: uuid.UUID, body: bytes
    ) -> bool:
        """Store the delivery of this event if its generation has a callback URL; True if it is new."""
        query = select(Generation.callback_url, Generation.client_id).where(Generation.id == generation_id)
        async with self.sessions() as session:
            row = (await session.execute(query)).one_or_none()
        if row is None or not row.callback_url:
            return False
        created = await self.store.enqueue(
            webhook_id=webhook_id_of(headers, topic, body),
            generation_id=generation_id,
            client_id=row.client_id,
            url=row.callback_url,
            event_type=topic,
            payload={"type": topic, "timestamp": timestamp_of(headers, data), "data": data},
            trace_context=tracing.carrier(),
        )
        if created:
            self.wake.set()
        return created

    async def _dead_letter(self, record: Any, body: bytes, error: BaseException) -> None:
        await dead_letter.send(
            self.broker,
            stage=NAME,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=body,
            error=error,
        )

    # --- the delivery loop -------------------------------------------------------------------------
    async def deliver_forever(self) -> None:
        in_flight: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            self.wake.set()

        try:
            while True:
                self.wake.clear()
                due: list[DueDelivery] = []
                free = self.concurrency - len(in_flight)
                try:
                    due = await self.store.claim_due(free, self.lease_seconds)
                except Exception:  # keep going through a database hiccup
                    log.exception("could not claim due webhooks")
                for d in due:
                    task = asyncio.create_task(self.deliver(d), name=f"webhook-{d.id}")
                    in_flight.add(task)
                    task.add_done_callback(finished)
                if not due or len(in_flight) >= self.concurrency:
                    with suppress(TimeoutError):
                        async with asyncio.timeout(IDLE_SECONDS):
                            await self.wake.wait()
        finally:
            if in_flight:  # let attempts under way end (their leases would bring them back anyway)
                grace = min(self.settings.shutdown_timeout_seconds, self.settings.webhook_timeout_seconds + 1)
                _, pending = await asyncio.wait(in_flight, timeout=grace)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

    async def deliver(self, due: DueDelivery) -> None:
        data = due.payload.get("data")
        generation_id = data.get("generation_id") if isinstance(data, dict) else None
        span = tracing.resumed(due.trace_context, "webhook delivery", generation_id)
        with span, service_logging.log_context(generation_id=generation_id, stage=NAME):
            await self._deliver(due)

    async def _deliver(self, due: DueDelivery) -> None:
        attempted_at = datetime.now(UTC)
        try:
            outcome = await self.sender.attempt(due)
            result = await self.store.record(
                due,
                outcome,
                attempted_at,
                self.settings.webhook_backoff,
                self.settings.webhook_give_up_seconds,
            )
        except Exception:  # the lease runs out and the delivery comes back
            metrics.WEBHOOK_DELIVERIES.labels("error").inc()
            log.exception("webhook %s to %s: attempt not recorded", due.webhook_id, due.url)
            return
        metrics.WEBHOOK_DELIVERIES.labels(result).inc()
        log.info(
            "webhook %s attempt %d: %s -> %s",
            due.webhook_id,
            due.attempts + 1,
            outcome.status_code if outcome.status_code is not None else outcome.error,
            result,
        )


def _age_seconds(timestamp: str) -> float:
    """Seconds since `timestamp` (ISO 8601; one without a zone is taken as UTC), at least 0."""
    at = datetime.fromisoformat(timestamp)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - at).total_seconds())


def create_app(settings: Settings | None = None, *, group_id: str = NAME) -> FastStream:
    """The notifier; `group_id` is its Kafka consumer group (replicas share one)."""
    settings = settings or load_settings()
    broker = consumer_broker(NAME, settings)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    http = httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,  # no proxy from the environment: the address check must hold for the connection
        timeout=settings.webhook_timeout_seconds,
        # No kept-alive connections: one pinned to an address for one host name must not carry
        # another host name's request (the pool knows connections by address, not by TLS name).
        limits=httpx.Limits(max_connections=DELIVERY_CONCURRENCY, max_keepalive_connections=0),
    )
    sender = Sender(
        http,
        settings.webhook_secret.get_secret_value(),
        UrlRules(settings.callback_url_allow_http, settings.callback_url_hosts),
        settings.webhook_timeout_seconds,
    )
    notifier = Notifier(settings, broker, sessions, sender)
    broker.subscriber(
        *topics.PUBLIC,
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
    )(notifier.on_event)
    loops: list[Loop] = [(f"{NAME}-deliveries", notifier.deliver_forever)]
    return consumer_app(
        broker, settings, loops, [http.aclose, engine.dispose], ready={"database": database_check(engine)}
    )


def main() -> None:
    asyncio.run(create_app().run())
