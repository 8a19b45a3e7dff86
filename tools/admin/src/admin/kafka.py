"""Kafka clients of the operator's tools, with the deployment's TLS and SASL settings (`kafka_options`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from common.messaging import kafka_options
from common.settings import Settings

CLIENT_ID = "dancer-admin"


@asynccontextmanager
async def reader(settings: Settings) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer in no group: it reads and looks up offsets, and never commits anything."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=CLIENT_ID,
        group_id=None,
        enable_auto_commit=False,
        **kafka_options(settings),
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


@asynccontextmanager
async def admin(settings: Settings) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, client_id=CLIENT_ID, **kafka_options(settings)
    )
    await client.start()
    try:
        yield client
    finally:
        await client.close()


async def partitions(client: AIOKafkaAdminClient, topic: str) -> list[TopicPartition]:
    """The partitions of `topic`; none when it does not exist."""
    [described] = await client.describe_topics([topic])
    return sorted(TopicPartition(topic, p["partition"]) for p in described["partitions"])
