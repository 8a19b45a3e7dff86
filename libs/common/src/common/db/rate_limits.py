"""Account-wide pacing of provider calls: one token bucket row per quota, shared by every replica.

DashScope counts its quotas per account (detection about 5/s, submits about 1/s), not per process, so
the buckets live in Postgres. A caller reserves the next free slot in one statement (the bucket may go
negative: that is the queue of callers already waiting) and sleeps until it comes. Callers are served in
the order they asked, so none is starved the way blind retries of 429s starve the unlucky ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import metrics

_ENSURE = text(
    "INSERT INTO rate_limits (name, tokens, updated_at) VALUES (:name, 1, clock_timestamp()) "
    "ON CONFLICT (name) DO NOTHING"
)
# Refill since the last reservation (up to one token: calls are spread out, never bursts), take one.
_RESERVE = text(
    """
    UPDATE rate_limits
       SET tokens = least(1, tokens + :rate * extract(epoch FROM clock_timestamp() - updated_at)) - 1,
           updated_at = clock_timestamp()
     WHERE name = :name
    RETURNING tokens
    """
)


class AccountRates:
    """`await rates("detect")` returns once this account may make one more detection call (a bucket
    per provider and quota: `dashscope-detect`)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], rates: Mapping[str, float], provider: str
    ) -> None:
        self._sessions = sessions
        self._rates = dict(rates)
        self._provider = provider

    async def __call__(self, quota: str) -> None:
        rate = self._rates.get(quota)
        if rate is None:
            return
        name = f"{self._provider}-{quota}"
        params = {"name": name, "rate": rate}
        async with self._sessions.begin() as session:
            await session.execute(_ENSURE, params)
            tokens = float(await session.scalar(_RESERVE, params) or 0.0)
        wait = -tokens / rate if tokens < 0 else 0.0
        metrics.TOKEN_BUCKET_WAIT_SECONDS.labels(name).observe(wait)
        if wait:
            await asyncio.sleep(wait)
