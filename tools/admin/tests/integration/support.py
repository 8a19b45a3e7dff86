"""Helpers of the operator's tools' tests: generations made the product's own way, `dancer-admin` run in
the test's event loop, and what arrives on a topic."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, redirect_stdout
from typing import Any

from admin import kafka
from admin.cli import parser, run
from admin.retry import Refused
from common.db.generations import SqlGenerationStore
from common.db.models import Generation, OutboxRecord, Status
from common.settings import Settings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

TEMPLATE = "AACT.5b7d2e10.Lp0sYv6Cu3-Ra8Qm1tWf-N.x9-HB-qR"


class Rows:
    """Generations in the states an operator meets, each made as the product makes it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.store = SqlGenerationStore(sessions)

    async def generation(self, **facts: Any) -> uuid.UUID:
        values: dict[str, Any] = {"status": Status.DETECTING, "stage": "detector", "template_id": TEMPLATE}
        values |= {"image_url": "https://example.com/me.jpg"} | facts
        generation_id = uuid.uuid4()
        async with self.sessions.begin() as session:
            session.add(Generation(id=generation_id, **values))
        return generation_id

    async def ended(
        self, status: Status, stage: str, code: str, *, retryable: bool, **facts: Any
    ) -> uuid.UUID:
        """A generation that ended as a stage ends it: the row and its public event in the outbox."""
        generation_id = await self.generation(stage=stage, **facts)
        message = f"{code} happened"
        assert await self.store.end(
            generation_id, status, stage, retryable=retryable, error_code=code, error_message=message
        )
        return generation_id

    async def load(self, generation_id: uuid.UUID) -> Generation:
        async with self.sessions() as session:
            generation = await session.get(Generation, generation_id)
        assert generation is not None
        return generation

    async def outbox(self, generation_id: uuid.UUID) -> list[OutboxRecord]:
        async with self.sessions() as session:
            query = (
                select(OutboxRecord).where(OutboxRecord.key == str(generation_id)).order_by(OutboxRecord.id)
            )
            return list(await session.scalars(query))


async def admin(settings: Settings, *argv: str) -> tuple[int, str]:
    """`dancer-admin *argv` in this event loop: its exit status and what it printed (or why it refused)."""
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            status = await run(parser().parse_args(argv), settings)
    except Refused as exc:
        return 1, str(exc)
    return status, out.getvalue()


class Tail:
    """What arrives on a topic from now on."""

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer

    async def records(self, key: bytes, *, wait_ms: int = 5000) -> list[Any]:
        """The records with `key` that arrived (waiting up to `wait_ms` for the first)."""
        found: list[Any] = []
        while batch := await self.consumer.getmany(timeout_ms=wait_ms):
            found += [r for rs in batch.values() for r in rs if r.key == key]
            wait_ms = 500
        return found


@asynccontextmanager
async def tail(settings: Settings, topic: str) -> AsyncIterator[Tail]:
    async with kafka.admin(settings) as client:
        partitions = await kafka.partitions(client, topic)
    async with kafka.reader(settings) as consumer:
        consumer.assign(partitions)
        for tp, end in (await consumer.end_offsets(partitions)).items():
            consumer.seek(tp, end)
        yield Tail(consumer)
