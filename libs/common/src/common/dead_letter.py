"""Messages a stage cannot process at all go to the dead-letter topic with the error and original bytes."""

from __future__ import annotations

import logging
import uuid

from faststream.kafka import KafkaBroker

from common import metrics, topics

log = logging.getLogger(__name__)


def generation_id_of(key: bytes | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(key.decode()) if key else None
    except (UnicodeDecodeError, ValueError):
        return None


async def send(
    broker: KafkaBroker,
    *,
    stage: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes,
    error: BaseException,
) -> None:
    log.error("dead-lettering %s[%s]@%s: %r", topic, partition, offset, error)
    metrics.DEAD_LETTERS.labels(stage, topic).inc()
    await broker.publish(
        value,
        topic=topics.DEAD_LETTER,
        key=key,
        headers={
            "dlq_stage": stage,
            "dlq_topic": topic,
            "dlq_partition": str(partition),
            "dlq_offset": str(offset),
            "dlq_error": f"{type(error).__name__}: {error}"[:4000],
        },
    )
