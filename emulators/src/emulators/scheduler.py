"""Runs tasks through the provider's lifecycle, one at a time per account and model, FIFO.

PENDING -> PRE-PROCESSING -> RUNNING -> POST-PROCESSING -> SUCCEEDED (or FAILED); a PENDING task may
be CANCELED. Each (account, model) lane has one worker coroutine that drains its queue; the video is
rendered in a thread during POST-PROCESSING so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from emulators.counters import Counters
from emulators.ids import AccountId, TaskId
from emulators.store import MemoryStore, Task, TaskStatus

log = logging.getLogger(__name__)

# Renders a task's video (blocking; run in a thread) and returns its path and duration in seconds.
Renderer = Callable[[Task], tuple[Path, float]]
Lane = tuple[AccountId, str]


@dataclass(frozen=True)
class Timings:
    pending: float
    preprocess: float
    run: float
    postprocess: float


class Scheduler:
    def __init__(self, store: MemoryStore, counters: Counters, timings: Timings, render: Renderer) -> None:
        self._store = store
        self._counters = counters
        self._timings = timings
        self._render = render
        self._queues: dict[Lane, deque[TaskId]] = {}
        self._workers: dict[Lane, asyncio.Task[None]] = {}

    def submit(self, task: Task) -> None:
        self._store.put_task(task)
        lane = (task.account, task.model)
        self._queues.setdefault(lane, deque()).append(task.task_id)
        worker = self._workers.get(lane)
        if worker is None or worker.done():
            self._workers[lane] = asyncio.create_task(self._drain(lane), name=f"lane-{lane[0]}-{lane[1]}")

    def cancel(self, task_id: TaskId) -> bool:
        """Cancel a PENDING task; False when it is in any other state."""
        task = self._store.get_task(task_id)
        if task is None or task.status is not TaskStatus.PENDING:
            return False
        self._store.put_task(replace(task, status=TaskStatus.CANCELED, end_time=time.time()))
        return True

    async def close(self) -> None:
        """Stop every worker (tasks in flight stay where they are); used by reset and shutdown."""
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()

    async def _drain(self, lane: Lane) -> None:
        queue = self._queues[lane]
        while queue:
            await self._run(queue[0])
            queue.popleft()

    async def _run(self, task_id: TaskId) -> None:
        task = self._store.get_task(task_id)
        if task is None or task.status is not TaskStatus.PENDING:
            return
        wait = task.submit_time + self._timings.pending - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        task = self._store.get_task(task_id)
        if task is None or task.status is not TaskStatus.PENDING:
            return  # canceled while waiting
        self._counters.task_started(task.account)
        try:
            await self._process(task)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("task %s failed", task_id)
            self._finish(task_id, status=TaskStatus.FAILED, code="InternalError", message="Render failed.")
        finally:
            self._counters.task_stopped(task.account)

    async def _process(self, task: Task) -> None:
        self._update(task.task_id, status=TaskStatus.PRE_PROCESSING, scheduled_time=time.time())
        await asyncio.sleep(self._timings.preprocess)
        if task.reject_code is not None:
            self._finish(
                task.task_id, status=TaskStatus.FAILED, code=task.reject_code, message=task.reject_reason
            )
            return
        self._update(task.task_id, status=TaskStatus.RUNNING)
        await asyncio.sleep(self._timings.run)
        self._update(task.task_id, status=TaskStatus.POST_PROCESSING)
        (video_path, duration), _ = await asyncio.gather(
            asyncio.to_thread(self._render, task), asyncio.sleep(self._timings.postprocess)
        )
        self._finish(
            task.task_id, status=TaskStatus.SUCCEEDED, video_path=video_path, video_duration=duration
        )

    def _update(self, task_id: TaskId, **changes: Any) -> None:
        task = self._store.get_task(task_id)
        if task is not None:
            self._store.put_task(replace(task, **changes))

    def _finish(self, task_id: TaskId, **changes: Any) -> None:
        self._update(task_id, end_time=time.time(), **changes)
