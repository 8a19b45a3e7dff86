"""Kafka plumbing shared by every service: the broker, topics, and CloudEvents-style publishing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import suppress
from datetime import UTC

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from common import topics
from common.events import Event

SPEC_VERSION = "1.0"
TYPE_PREFIX = "com.dancer."
SCHEMA_VERSION = 1
FACT_NAMESPACE = uuid.UUID("6f1c1d2e-5b7a-4c39-9a51-2f0d3c4b5a60")


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


def event_type(event_class: type[Event]) -> str:
    """The versioned CloudEvents type: a breaking change of the payload would make `.v2`."""
    return f"{TYPE_PREFIX}{event_class.__name__}.v{SCHEMA_VERSION}"


def schema_path(ce_type: str) -> str:
    """Where the gateway serves the JSON Schema of the events of type `ce_type`."""
    return f"/schemas/events/{ce_type.removeprefix(TYPE_PREFIX)}.json"


def fact_id(event: Event) -> str:
    """The same id for the same fact: each event type happens once per generation, so a redelivery,
    a retried step or a second relay of it carries the id a subscriber de-duplicates on."""
    return str(uuid.uuid5(FACT_NAMESPACE, f"{event_type(type(event))}/{event.generation_id}"))


def cloudevent_headers(event: Event, source: str, schema_base: str = "") -> dict[str, str]:
    """CloudEvents Kafka binding, binary mode: attributes as `ce_` headers, the event as JSON body."""
    ce_type = event_type(type(event))
    headers = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": fact_id(event),
        "ce_type": ce_type,
        "ce_source": f"/dancer/{source}",
        "ce_time": event.occurred_at.astimezone(UTC).isoformat(),
        "ce_subject": str(event.generation_id),
        "content-type": "application/json",
    }
    if schema_base:
        headers["ce_dataschema"] = schema_base.rstrip("/") + schema_path(ce_type)
    return headers


async def publish(broker: KafkaBroker, event: Event, source: str, schema_base: str = "") -> None:
    """Publish `event` on its topic, keyed by generation id, and wait for the broker's ack."""
    await broker.publish(
        event.model_dump(mode="json"),
        topic=event.topic,
        key=str(event.generation_id).encode(),
        headers=cloudevent_headers(event, source, schema_base),
    )


def new_topics(names: Iterable[str], partitions: int) -> list[NewTopic]:
    """The topics to create: `partitions` each, and the public ones with their configs (`topics.config`)."""
    return [NewTopic(t, partitions, 1, topic_configs=topics.config(t) or None) for t in names]


async def ensure_topics(bootstrap_servers: str, partitions: int) -> None:
    """Create every topic the product uses (idempotent); topics are never auto-created.

    Only missing topics are created: an existing topic keeps its partitions and configs."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = new_topics([t for t in topics.ALL if t not in existing], partitions)
        if missing:
            with suppress(TopicAlreadyExistsError):  # another process created them first
                await admin.create_topics(missing)
    finally:
        await admin.close()
