"""A message no stage can read goes to the dead-letter topic, and its partition keeps flowing."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from common import topics

from tests.faults.harness import stack

pytestmark = pytest.mark.faults
INPUTS = (
    topics.GENERATION_REQUESTED,
    topics.IMAGE_UPLOADED,
    topics.IMAGE_ACCEPTED,
    topics.SYNTHESIS_SUBMITTED,
)


async def _send_poison(bootstrap: str, key: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic in INPUTS:
            await producer.send_and_wait(topic, b"\x00 not an event {", key=key)
    finally:
        await producer.stop()


async def _dead_letters(bootstrap: str) -> list[dict[str, bytes]]:
    consumer = AIOKafkaConsumer(
        topics.DEAD_LETTER,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"probe-{uuid.uuid4()}",
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
    finally:
        await consumer.stop()
    return [dict(r.headers) | {"value": r.value} for batch in batches.values() for r in batch]


def test_poison_on_every_input_topic_is_dead_lettered_and_the_pipeline_flows(tmp_path: Path) -> None:
    with stack(tmp_path) as s:
        bootstrap = s.env["KAFKA_BOOTSTRAP_SERVERS"]
        victim = s.post(0)
        s.wait_all([victim])
        # Same key as a real generation, so the poison lands on a partition that real work uses.
        asyncio.run(_send_poison(bootstrap, key=victim.encode()))
        after = [s.post(i) for i in range(1, 6)]
        final = s.wait_all(after)
        assert {g["status"] for g in final.values()} == {"SUCCEEDED"}

        letters = asyncio.run(_dead_letters(bootstrap))
        assert sorted(h["dlq_topic"].decode() for h in letters) == sorted(INPUTS)
        assert all(h["value"] == b"\x00 not an event {" and h["dlq_error"] for h in letters)
        # A generation that had already ended is not touched by a poison message with its key.
        assert s.status(victim)["status"] == "SUCCEEDED"
