"""The poll schedule on the real database: replicas claim disjoint tasks, and back off."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from common.db.models import Generation, Status
from common.db.session import make_engine, make_sessionmaker
from poller.schedule import PollSchedule
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

pytestmark = pytest.mark.integration
TEMPLATE = "AACT.5b7d2e10.Lp0sYv6Cu3-Ra8Qm1tWf-N.x9-HB-qR"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


def a_provider() -> str:
    """A provider name of the test's own: its rows and its query bucket are the test's alone."""
    return f"test-{uuid.uuid4().hex[:12]}"


async def _submitted(
    sessions: async_sessionmaker[AsyncSession], n: int, provider: str = "dashscope"
) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(n)]
    async with sessions.begin() as session:
        session.add_all(
            Generation(
                id=i,
                status=Status.SUBMITTING,
                stage="synthesizer",
                template_id=TEMPLATE,
                provider=provider,
                task_id=f"task-{i}",
            )
            for i in ids
        )
    return ids


async def test_two_replicas_never_claim_the_same_task(sessions: async_sessionmaker[AsyncSession]) -> None:
    provider = a_provider()
    ids = await _submitted(sessions, 30, provider)
    schedule = PollSchedule(sessions, base_interval=60, rates={provider: 500})
    for i in ids:
        await schedule.start_watching(i, f"task-{i}")
        await schedule.start_watching(i, f"task-{i}")  # a redelivered SynthesisSubmitted changes nothing

    first, second = await asyncio.gather(schedule.claim_due(20), schedule.claim_due(20))

    claimed = [d.generation_id for d in first + second]
    assert len(claimed) == len(set(claimed)) == 30 and set(claimed) == set(ids)
    assert await schedule.claim_due(20) == []  # all pushed out by the base interval


async def test_watched_task_shows_as_pending(sessions: async_sessionmaker[AsyncSession]) -> None:
    [generation_id] = await _submitted(sessions, 1)
    await PollSchedule(sessions, 1, {}).start_watching(generation_id, f"task-{generation_id}")
    async with sessions() as session:
        generation = await session.get(Generation, generation_id)
    assert generation is not None and generation.status is Status.PENDING and generation.next_poll_at


async def test_replicas_together_stay_under_the_account_query_rate(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    provider = a_provider()
    ids = await _submitted(sessions, 200, provider)
    rate = 20.0
    replicas = [PollSchedule(sessions, base_interval=600, rates={provider: rate}) for _ in range(3)]
    for i in ids:
        await replicas[0].start_watching(i, f"task-{i}")
    loop = asyncio.get_running_loop()
    started = loop.time()
    claimed = 0
    while loop.time() - started < 1.5:
        batches = await asyncio.gather(*(r.claim_due(50) for r in replicas))
        claimed += sum(len(b) for b in batches)
    elapsed = loop.time() - started
    assert 0 < claimed <= rate / 5 + rate * elapsed


async def test_each_provider_is_claimed_under_its_own_rate(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    slow, fast = a_provider(), a_provider()
    slow_ids, fast_ids = await _submitted(sessions, 20, slow), await _submitted(sessions, 20, fast)
    schedule = PollSchedule(sessions, base_interval=600, rates={slow: 1.0, fast: 500.0})
    for i in slow_ids + fast_ids:
        await schedule.start_watching(i, f"task-{i}")

    due = await schedule.claim_due(20)

    by_provider = {p: [d for d in due if d.provider == p] for p in (slow, fast)}
    assert len(by_provider[slow]) == 1  # a bucket of 1/s holds one query at a time
    assert len(by_provider[fast]) == 20 and {d.generation_id for d in by_provider[fast]} == set(fast_ids)
