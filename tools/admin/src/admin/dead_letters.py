"""`dancer-admin dead-letters`: read the dead-letter topic, and replay what is on it.

A dead letter is a message a stage could not process (`common.dead_letter`): its original bytes and key,
and headers naming the stage, the original topic, partition and offset, and the error. The stage also
failed the generation the key names (`UnprocessableMessage`), so a replayed message alone would be
ignored: every stage leaves an ended generation alone. Hence `replay`:
- re-publishes each dead letter's original bytes to its original topic, with its original key and a
  `dlq_replayed` header (`dead-letter/<partition>/<offset>`), and names the generations that stay FAILED;
- with `--retry`, retries those generations instead (`admin.retry`): each runs again from the start with
  freshly made events, so its dead letters' old bytes are not needed and are not re-published.
Replaying twice is harmless: the stages are idempotent.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from common import dead_letter, topics
from common.db.models import Generation, Status
from common.messaging import make_broker
from common.settings import Settings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin import kafka
from admin.retry import UNPROCESSABLE, Refused, retry

REPLAYED_HEADER = "dlq_replayed"
READ_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class DeadLetter:
    partition: int  # where it is on the dead-letter topic
    offset: int
    at: datetime
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def generation_id(self) -> uuid.UUID | None:
        return dead_letter.generation_id_of(self.key)

    @property
    def topic(self) -> str:
        return self.headers.get("dlq_topic", "")

    @property
    def ref(self) -> str:
        return f"{topics.DEAD_LETTER}/{self.partition}/{self.offset}"

    def as_dict(self) -> dict[str, Any]:
        h = self.headers
        return {
            "dead_letter": self.ref,
            "at": self.at.isoformat(),
            "generation_id": str(self.generation_id) if self.generation_id else None,
            "stage": h.get("dlq_stage"),
            "origin": f"{self.topic}/{h.get('dlq_partition')}/{h.get('dlq_offset')}",
            "error": h.get("dlq_error"),
            "key": self.key.decode(errors="replace") if self.key is not None else None,
            "value": self.value.decode(errors="replace"),
        }


def _letter(record: Any) -> DeadLetter:
    headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
    at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
    return DeadLetter(record.partition, record.offset, at, record.key, record.value or b"", headers)


async def _read_all(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> list[DeadLetter]:
    """Every dead letter on the topic now (from each partition's start to its end when called)."""
    if not partitions:
        return []
    consumer.assign(partitions)
    starts, ends = await consumer.beginning_offsets(partitions), await consumer.end_offsets(partitions)
    for tp in partitions:
        consumer.seek(tp, starts[tp])
    letters: list[DeadLetter] = []
    remaining = [tp for tp in partitions if starts[tp] < ends[tp]]
    async with asyncio.timeout(READ_TIMEOUT_SECONDS):
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in batches.items():
                letters.extend(_letter(r) for r in records if r.offset < ends[tp])
            remaining = [tp for tp in remaining if await consumer.position(tp) < ends[tp]]
    return sorted(letters, key=lambda d: (d.at, d.partition, d.offset))


async def read(settings: Settings, generation_id: uuid.UUID | None = None) -> list[DeadLetter]:
    """The dead letters, oldest first; only those of `generation_id` when given."""
    async with kafka.admin(settings) as client:
        partitions = await kafka.partitions(client, topics.DEAD_LETTER)
    async with kafka.reader(settings) as consumer:
        letters = await _read_all(consumer, partitions)
    return [d for d in letters if generation_id is None or d.generation_id == generation_id]


def describe(d: DeadLetter) -> str:
    info = d.as_dict()
    value = info["value"] if len(info["value"]) <= 300 else info["value"][:300] + "…"
    return (
        f"{info['dead_letter']}  {info['at']}  stage={info['stage']}  from {info['origin']}\n"
        f"  generation: {info['generation_id'] or '-'}\n  error: {info['error']}\n  value: {value}"
    )


async def _stuck(sessions: async_sessionmaker[AsyncSession], letters: list[DeadLetter]) -> set[uuid.UUID]:
    """The generations among `letters`' that a stage failed with UnprocessableMessage."""
    ids = {d.generation_id for d in letters if d.generation_id is not None}
    async with sessions() as session:
        rows = [await session.get(Generation, i) for i in ids]
    return {g.id for g in rows if g and g.status is Status.FAILED and g.error_code == UNPROCESSABLE}


async def replay(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    letters: list[DeadLetter],
    *,
    retry_failed: bool = False,
) -> list[str]:
    """Replay `letters` (see the module's doc); returns what was done, one line each."""
    stuck = await _stuck(sessions, letters)
    report: list[str] = []
    if retry_failed:
        for generation_id in sorted(stuck, key=str):
            try:
                report.append(f"retried {await retry(sessions, generation_id)}")
            except Refused as exc:
                report.append(f"not retried: {exc}")
    broker = make_broker(settings, client_id=kafka.CLIENT_ID)
    await broker.connect()
    try:
        for d in letters:
            if retry_failed and d.generation_id in stuck:
                continue
            if not d.topic:
                report.append(f"skipped {d.ref}: it does not name its original topic")
                continue
            headers = {REPLAYED_HEADER: d.ref}
            await broker.publish(d.value, topic=d.topic, key=d.key, headers=headers)
            report.append(f"replayed {d.ref} to {d.topic} (generation {d.generation_id or '-'})")
    finally:
        await broker.stop()
    if not retry_failed:
        report.extend(
            f"generation {g} stays FAILED ({UNPROCESSABLE}): the stages ignore its replayed messages; "
            f"`dancer-admin retry {g}` (or `replay --retry`) runs it again"
            for g in sorted(stuck, key=str)
        )
    return report
