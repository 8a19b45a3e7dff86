"""The real broker and database from the session fixtures answer as the services will use them."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def test_kafka_topic_roundtrip(kafka_bootstrap_servers: str) -> None:
    topic = f"infra-check-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        for _ in range(50):  # a new topic's partitions reach the metadata a moment later
            [description] = await admin.describe_topics([topic])
            if description["partitions"]:
                break
            await asyncio.sleep(0.2)
        assert len(description["partitions"]) == 3
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, b"hello", key=b"job-1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=f"{topic}-group",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert (message.key, message.value, message.partition) == (b"job-1", b"hello", sent.partition)


async def test_postgres_select_one(postgres_server_url: str) -> None:
    assert postgres_server_url.startswith("postgresql+asyncpg://")
    connection = await asyncpg.connect(postgres_server_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await connection.fetchval("select 1") == 1
    finally:
        await connection.close()
