"""Kafka plumbing shared by every service: the broker, topics, and CloudEvents-style publishing."""

from __future__ import annotations

import uuid
from contextlib import suppress
from datetime import UTC, datetime

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from common import topics
from common.events import Event

SPEC_VERSION = "1.0"
TYPE_PREFIX = "com.dancer."


def make_broker(bootstrap_servers: str, client_id: str, graceful_timeout: float = 15.0) -> KafkaBroker:
    # acks="all" + idempotence: a published event is on the broker before the stage commits.
    # graceful_timeout: on shutdown, in-flight messages get this long to finish (then commit).
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        graceful_timeout=graceful_timeout,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=15_000,
    )


def cloudevent_headers(event: Event, source: str) -> dict[str, str]:
    """CloudEvents Kafka binding, binary mode: attributes as `ce_` headers, the event as JSON body."""
    return {
        "ce_specversion": SPEC_VERSION,
        "ce_id": str(uuid.uuid4()),
        "ce_type": TYPE_PREFIX + type(event).__name__,
        "ce_source": f"/dancer/{source}",
        "ce_time": datetime.now(UTC).isoformat(),
        "ce_subject": str(event.generation_id),
        "content-type": "application/json",
    }


async def publish(broker: KafkaBroker, event: Event, source: str) -> None:
    """Publish `event` on its topic, keyed by generation id, and wait for the broker's ack."""
    await broker.publish(
        event.model_dump(mode="json"),
        topic=event.topic,
        key=str(event.generation_id).encode(),
        headers=cloudevent_headers(event, source),
    )


async def ensure_topics(bootstrap_servers: str, partitions: int) -> None:
    """Create every topic the product uses (idempotent); topics are never auto-created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, partitions, 1) for t in topics.ALL if t not in existing]
        if missing:
            with suppress(TopicAlreadyExistsError):  # another process created them first
                await admin.create_topics(missing)
    finally:
        await admin.close()
