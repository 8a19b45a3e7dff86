"""The composition root every stage shares: one topic in, the next event out.

A stage supplies a name (= package = consumer group = process name), the topic and event type it
consumes, and a use case. What happens to a message:
- processed: the use case stores its work, the next event is published, then the offset commits; a
  generation that ends is ended with its public event in one transaction (the outbox), and the
  stage's relay publishes it;
- retryable provider error (429, 5xx, timeout): stored as a retry with a due time, offset commits,
  a background loop tries again with jittered backoff; after `retry_attempts` failures (429s not
  counted) or `throttled_attempts` attempts in all, the generation fails with the last error
  (`retryable`: the client may try again later);
- database or broker unavailable: the message is handed back (nack) and redelivered, never lost;
- unparseable message or a bug: the original bytes go to the dead-letter topic with the error, and
  the generation (named by the message key) is marked FAILED, so the partition keeps flowing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

import httpx
from aiokafka.errors import KafkaError
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import dead_letter, metrics, tracing
from common import logging as service_logging
from common.db.generations import SqlGenerationStore, fail
from common.db.session import make_engine, make_sessionmaker
from common.events import Event, FailedStage
from common.health import database_check
from common.media import MediaStore, MediaUnavailable, make_media_store
from common.messaging import publish
from common.metrics import Sampler
from common.outbox import Relay
from common.providers.errors import RetryableProviderError
from common.providers.registry import Providers, make_providers
from common.retries import DueRetry, RetryStore, backoff
from common.service import Loop, consumer_app, consumer_broker
from common.settings import Settings, load_settings

E = TypeVar("E", bound=Event)
log = logging.getLogger(__name__)
INFRA_PAUSE_SECONDS = 2.0
QUERY_CANCELED = "57014"  # Postgres' SQLSTATE for a statement canceled, e.g. by statement_timeout


@dataclass
class StageContext:
    name: str
    settings: Settings
    broker: KafkaBroker
    sessions: async_sessionmaker[AsyncSession]
    providers: Providers  # each provider's ports, by name (`Generation.provider`)
    relay: Relay
    media: MediaStore
    http: httpx.AsyncClient  # for calls that are no provider API's (e.g. fetching a provider's file)


UseCase = Callable[[StageContext, E], Awaitable[Event | None]]
Background = Callable[[StageContext], Coroutine[None, None, None]]
StageSampler = Callable[[StageContext], Awaitable[None]]  # sets a stage's own gauges (see common.metrics)


def is_infrastructure(exc: BaseException) -> bool:
    """The database, broker or media store is unreachable (or the database too slow: a statement ran past
    DATABASE_STATEMENT_TIMEOUT_MS and was canceled): the work can succeed later, unchanged."""
    if isinstance(exc, sa_exc.DBAPIError) and (
        exc.connection_invalidated or getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED
    ):
        return True
    infra = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,
        KafkaError,
        OSError,
        MediaUnavailable,
    )
    return isinstance(exc, infra)


class Stage(Generic[E]):
    def __init__(self, ctx: StageContext, event_type: type[E], use_case: UseCase[E]) -> None:
        self.ctx = ctx
        self.event_type = event_type
        self.use_case = use_case
        self.retries = RetryStore(ctx.sessions, ctx.name)

    async def on_message(self, message: KafkaMessage) -> None:
        record = message.raw_message
        try:
            event = self.event_type.model_validate_json(message.body)
        except ValidationError as exc:
            key = message.raw_message.key  # type: ignore[union-attr]  # one record: no batch subscriber
            with service_logging.log_context(
                generation_id=dead_letter.generation_id_of(key), stage=self.ctx.name
            ):
                await self._dead_letter(record, message.body, exc)
            return
        tracing.tag(event.generation_id)
        wait = (datetime.now(UTC) - event.occurred_at).total_seconds()
        metrics.STAGE_QUEUE_WAIT_SECONDS.labels(self.ctx.name).observe(max(0.0, wait))
        with service_logging.log_context(**self._context_of(event)):
            try:
                await self.process(event)
            except Exception as exc:
                if is_infrastructure(exc):
                    log.warning("infrastructure unavailable, handing the message back: %r", exc)
                    await asyncio.sleep(INFRA_PAUSE_SECONDS)
                    raise
                log.exception("could not process %s", event.generation_id)
                await self._dead_letter(record, message.body, exc)

    def _context_of(self, event: E) -> dict[str, Any]:
        """What every log line about this event names (see `common.logging.log_context`)."""
        task_id = getattr(event, "task_id", None)
        return {"generation_id": event.generation_id, "stage": self.ctx.name, "task_id": task_id}

    async def process(self, event: E, attempts: int = 0, errors: int = 0) -> None:
        """Run the use case; `attempts` so far in all, `errors` of them not throttling (429)."""
        started, outcome = time.perf_counter(), "error"
        try:
            outcome = await self._process(event, attempts, errors)
        finally:
            metrics.STAGE_WORK_SECONDS.labels(self.ctx.name, outcome).observe(time.perf_counter() - started)

    async def _process(self, event: E, attempts: int, errors: int) -> str:
        """`process`; returns its outcome: done, retry (scheduled) or failed (retries ran out)."""
        settings = self.ctx.settings
        outcome = "done"
        try:
            next_event = await self.use_case(self.ctx, event)
        except RetryableProviderError as exc:
            attempts += 1
            errors += exc.status != 429  # throttling means "later", not "broken"
            if errors < settings.retry_attempts and attempts < settings.throttled_attempts:
                delay = backoff(
                    attempts, settings.retry_base_seconds, settings.retry_max_seconds, exc.retry_after
                )
                log.info("%s: %s, retry %d in %.1fs", event.generation_id, exc.code, attempts, delay)
                await self.retries.schedule(
                    event.generation_id,
                    event.model_dump(mode="json"),
                    attempts,
                    errors,
                    delay,
                    exc.code,
                    exc.message,
                    tracing.carrier(),
                )
                reason = "throttled" if exc.status == 429 else "error"
                metrics.RETRIES_SCHEDULED.labels(self.ctx.name, reason).inc()
                return "retry"
            message = f"{exc.message} (gave up after {attempts} attempts)"
            await self._fail(event.generation_id, exc.code, message, retryable=True)
            metrics.RETRIES_EXHAUSTED.labels(self.ctx.name).inc()
            next_event, outcome = None, "failed"
        finally:
            self.ctx.relay.wake()  # whatever the use case committed to the outbox goes out now
        if next_event is not None:
            await publish(self.ctx.broker, next_event, self.ctx.name, self.ctx.settings.public_base_url)
        if attempts:
            await self.retries.done(event.generation_id)
        return outcome

    async def sample(self) -> None:
        """The retry gauges of this stage (run by the metrics loop, not per message)."""
        due, waiting = await self.retries.counts()
        metrics.RETRIES_DUE.labels(self.ctx.name).set(due)
        metrics.RETRIES_WAITING.labels(self.ctx.name).set(waiting)

    async def retry_forever(self) -> None:
        while True:
            due = []
            try:
                due = await self.retries.claim_due(limit=20)
                await asyncio.gather(*(self._retry(d) for d in due))
            except Exception:
                log.exception("retry round failed")
            if not due:
                await asyncio.sleep(0.5)

    async def _retry(self, due: DueRetry) -> None:
        event = self.event_type.model_validate(due.payload)
        span = tracing.resumed(due.trace_context, f"{self.ctx.name} retry", event.generation_id)
        with span, service_logging.log_context(**self._context_of(event)):
            try:
                await self.process(event, due.attempts, due.errors)
            except Exception as exc:
                if is_infrastructure(exc):
                    raise  # the lease runs out and the retry comes back
                log.exception("retry of %s failed", event.generation_id)
                await self._fail(event.generation_id, "InternalError", f"{type(exc).__name__}: {exc}")
                await self.retries.done(event.generation_id)

    async def _fail(self, generation_id: Any, code: str, message: str, retryable: bool = False) -> None:
        store = SqlGenerationStore(self.ctx.sessions)
        stage = cast(FailedStage, self.ctx.name)
        await fail(store, generation_id, stage, code, message, retryable=retryable)
        self.ctx.relay.wake()

    async def _dead_letter(self, record: Any, body: bytes, error: BaseException) -> None:
        await dead_letter.send(
            self.ctx.broker,
            stage=self.ctx.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=body,
            error=error,
        )
        generation_id = dead_letter.generation_id_of(record.key)
        if generation_id is not None:
            await self._fail(generation_id, "UnprocessableMessage", f"{type(error).__name__}: {error}")


def stage_app(
    name: str,
    topic: str,
    event_type: type[E],
    use_case: UseCase[E],
    *,
    background: Background | None = None,
    samplers: list[StageSampler] | None = None,
    settings: Settings | None = None,
) -> FastStream:
    """`samplers`: the stage's own gauges, sampled with the retry and outbox gauges every few seconds."""
    settings = settings or load_settings()
    broker = consumer_broker(name, settings)
    engine = make_engine(settings)
    http = httpx.AsyncClient(timeout=settings.dashscope_timeout_seconds)
    tracing.instrument_http(http)
    sessions = make_sessionmaker(engine)
    relay = Relay(sessions, broker, schema_base=settings.public_base_url)
    ctx = StageContext(
        name=name,
        settings=settings,
        broker=broker,
        sessions=sessions,
        providers=make_providers(settings, http, sessions),
        relay=relay,
        media=make_media_store(settings),  # connects on first use
        http=http,
    )
    stage = Stage(ctx, event_type, use_case)
    broker.subscriber(
        topic,
        group_id=name,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_workers=settings.stage_concurrency,
        auto_offset_reset="earliest",
    )(stage.on_message)
    gauges: list[Sampler] = [stage.sample, relay.sample, *(lambda s=s: s(ctx) for s in samplers or [])]
    loops: list[Loop] = [
        (f"{name}-outbox-relay", relay.run),
        (f"{name}-retries", stage.retry_forever),
        (f"{name}-metrics", lambda: metrics.sample_forever(gauges)),
    ]
    if background is not None:
        loops.append((f"{name}-background", lambda: background(ctx)))
    closers: list[Callable[[], Awaitable[None]]] = [http.aclose, ctx.media.close, engine.dispose]
    return consumer_app(broker, settings, loops, closers, ready={"database": database_check(engine)})


def run(app: FastStream) -> None:
    asyncio.run(app.run())
