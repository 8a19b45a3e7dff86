"""Work queues the providers' task clocks share: one queue per lane (an account, or an account and a model),
drained in submit order by at most `width` workers at once, each on the event loop."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Lanes(Generic[K, T]):
    def __init__(self, run: Callable[[T], Awaitable[None]]) -> None:
        self._run = run
        self._queues: dict[K, deque[T]] = {}
        self._workers: dict[K, set[asyncio.Task[None]]] = {}

    def add(self, lane: K, item: T, width: int = 1) -> None:
        """Queue `item` on its lane; at most `width` items of one lane run at once (0: no limit)."""
        self._queues.setdefault(lane, deque()).append(item)
        workers = self._workers.setdefault(lane, set())
        if width <= 0 or sum(not worker.done() for worker in workers) < width:
            worker = asyncio.create_task(self._drain(lane), name=f"lane-{lane}")
            workers.add(worker)
            worker.add_done_callback(workers.discard)

    async def close(self) -> None:
        """Stop every worker (items in flight stay where they are) and forget the queues."""
        workers = [worker for lane in self._workers.values() for worker in lane]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()

    async def _drain(self, lane: K) -> None:
        queue = self._queues[lane]
        while queue:
            await self._run(queue.popleft())


async def sleep_until(deadline: float) -> None:
    """Sleep until the epoch time `deadline` (at once if it has passed)."""
    delay = deadline - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
