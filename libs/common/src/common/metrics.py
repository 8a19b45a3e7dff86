"""The product's own metrics, declared once per process on the default Prometheus registry.

Counters and histograms are updated where the work happens. Gauges that describe shared state (retry
backlog, poll schedule, outbox, generations by status) are sampled from the database by a background
loop every `SAMPLE_SECONDS`, never on the hot path; every replica that samples one reports the same
value, so aggregate them with `max`, not `sum`.

Kafka traffic (messages received, processed, published, their duration and exceptions per topic) is
counted by FastStream's own Prometheus middleware (`faststream_*`), the gateway's HTTP traffic by
prometheus-fastapi-instrumentator (`http_*`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

log = logging.getLogger(__name__)
SAMPLE_SECONDS = 5.0
# No `*_created` series next to every counter and histogram.
disable_created_metrics()  # type: ignore[no-untyped-call]

_WORK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_WAIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)

STAGE_WORK_SECONDS = Histogram(
    "dancer_stage_work_seconds",
    "How long a stage worked on one event (an attempt), by outcome: "
    "done, retry (scheduled), failed (the generation failed), error (handed back or dead-lettered).",
    ["stage", "outcome"],
    buckets=_WORK_BUCKETS,
)
STAGE_QUEUE_WAIT_SECONDS = Histogram(
    "dancer_stage_queue_wait_seconds",
    "From the event's occurred_at to the stage starting work on it (first attempt).",
    ["stage"],
    buckets=_WAIT_BUCKETS,
)
PROVIDER_CALLS = Counter(
    "dancer_provider_calls_total",
    "Provider API calls, by endpoint and result: the HTTP status, or timeout / connection_error.",
    ["provider", "endpoint", "code"],
)
POSSIBLE_DOUBLE_SPEND = Counter(
    "dancer_possible_double_spend_total",
    "Submissions whose outcome stayed unknown at a provider that cannot list its jobs: the generation "
    "submitted anew, so the provider may have made (and billed) a job no generation owns.",
    ["provider"],
)
PROVIDER_BILLED_SECONDS = Counter(
    "dancer_provider_billed_seconds_total",
    "What the providers bill for the videos they made, in seconds of video (the spend per provider).",
    ["provider"],
)
PROVIDER_CALLBACKS = Counter(
    "dancer_provider_callbacks_total",
    "Completion notices a provider pushed, by outcome: due (its generation is polled at once), late "
    "(its generation is past polling), unknown_task (no generation owns the job), ignored (no task named).",
    ["provider", "outcome"],
)
PROVIDER_CALL_SECONDS = Histogram(
    "dancer_provider_call_seconds",
    "Duration of one provider API call (one HTTP request, pacing excluded).",
    ["provider", "endpoint"],
    buckets=_WORK_BUCKETS,
)
RETRIES_SCHEDULED = Counter(
    "dancer_retries_scheduled_total",
    "Retries a stage stored after a retryable provider error, by reason: throttled (429) or error.",
    ["stage", "reason"],
)
RETRIES_EXHAUSTED = Counter(
    "dancer_retries_exhausted_total",
    "Generations a stage failed because their retries ran out.",
    ["stage"],
)
RETRIES_DUE = Gauge("dancer_retries_due", "Stored retries whose time has come (sampled).", ["stage"])
RETRIES_WAITING = Gauge("dancer_retries_waiting", "Stored retries not yet due (sampled).", ["stage"])
POLL_SCHEDULE_SIZE = Gauge("dancer_poll_schedule_size", "Provider tasks the poller watches (sampled).")
POLL_LAG_SECONDS = Gauge(
    "dancer_poll_lag_seconds", "How overdue the most overdue task query is; 0 when none is due (sampled)."
)
OUTBOX_BACKLOG = Gauge("dancer_outbox_backlog", "Outbox records not yet published (sampled).")
OUTBOX_OLDEST_AGE_SECONDS = Gauge(
    "dancer_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox record; 0 when none (sampled)."
)
OUTBOX_PUBLISHED = Counter("dancer_outbox_published_total", "Outbox records this relay published.", ["topic"])
DEAD_LETTERS = Counter(
    "dancer_dead_letters_total",
    "Messages sent to the dead-letter topic, by stage and source topic.",
    ["stage", "topic"],
)
GENERATIONS = Gauge("dancer_generations", "Generations by status (sampled by the gateway).", ["status"])
TOKEN_BUCKET_WAIT_SECONDS = Histogram(
    "dancer_token_bucket_wait_seconds",
    "How long a provider call waited for the account-wide token bucket.",
    ["bucket"],
    buckets=(0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
WEBHOOK_DELIVERIES = Counter(
    "dancer_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome: delivered, retry, gave_up, ended (settled elsewhere), error.",
    ["outcome"],
)

Sampler = Callable[[], Awaitable[None]]


def kafka_middleware(app_name: str) -> KafkaPrometheusMiddleware:
    """FastStream's Prometheus middleware: `faststream_received_*` / `faststream_published_*` per topic."""
    return KafkaPrometheusMiddleware(registry=REGISTRY, app_name=app_name)


def exposition() -> tuple[bytes, str]:
    """This process's metrics in the Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


async def sample_forever(samplers: Sequence[Sampler], interval: float = SAMPLE_SECONDS) -> None:
    """Run every sampler every `interval` seconds; one that fails is logged and tried next time."""
    while True:
        for sample in samplers:
            try:
                await sample()
            except Exception as exc:  # the database may be away: the gauges keep their last value
                log.warning("metrics sample %s failed: %r", getattr(sample, "__qualname__", sample), exc)
        await asyncio.sleep(interval)
