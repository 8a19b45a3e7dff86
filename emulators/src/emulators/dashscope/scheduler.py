"""Runs tasks through the provider's lifecycle, one at a time per account and model, FIFO.

PENDING -> PRE-PROCESSING -> RUNNING -> POST-PROCESSING -> SUCCEEDED (or FAILED); a PENDING task may
be CANCELED. Each (account, model) lane is one of the shared `Lanes`, one task at a time. Every phase
ends at a time computed from the task's stored `scheduled_time`, so after a restart `resume` picks
each task up where the clock says it is. The work itself (rendering the video, making the
template) happens during POST-PROCESSING.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulators.counters import Counters
from emulators.dashscope.records import ACTIVE_STATUSES, FINAL_STATUSES, Task, TaskStatus
from emulators.dashscope.store import Store
from emulators.ids import AccountId, TaskId
from emulators.lanes import Lanes, sleep_until

log = logging.getLogger(__name__)

# Does a task's work (heavy parts in a thread); returns the fields of the SUCCEEDED task.
Worker = Callable[[Task], Awaitable[dict[str, Any]]]
Lane = tuple[AccountId, str]
_PHASES = (TaskStatus.PRE_PROCESSING, TaskStatus.RUNNING, TaskStatus.POST_PROCESSING)


@dataclass(frozen=True)
class Timings:
    pending: float
    preprocess: float
    run: float
    postprocess: float
    stuck: float = 3 * 3600.0


class Scheduler:
    def __init__(
        self, store: Store, counters: Counters, timings: Timings, workers: Mapping[str, Worker]
    ) -> None:
        self._store = store
        self._counters = counters
        self._timings = timings
        self._workers = workers
        self._lanes: Lanes[Lane, TaskId] = Lanes(self._run)

    def submit(self, task: Task) -> None:
        self._store.put_task(task)
        self._lanes.add(task.lane, task.task_id)

    def resume(self) -> None:
        """Queue every unfinished task again: running ones first, then the rest in submit order."""
        unfinished = [task for task in self._store.tasks() if task.status not in FINAL_STATUSES]
        for task in sorted(unfinished, key=lambda t: (t.status not in ACTIVE_STATUSES, t.submit_time)):
            self._lanes.add(task.lane, task.task_id)

    def cancel(self, task_id: TaskId) -> bool:
        """Cancel a PENDING task; False when it is in any other state."""
        task = self._store.get_task(task_id)
        if task is None or task.status is not TaskStatus.PENDING:
            return False
        self._update(task, status=TaskStatus.CANCELED, end_time=time.time())
        return True

    async def close(self) -> None:
        """Stop every worker (tasks in flight stay where they are); used by reset and shutdown."""
        await self._lanes.close()

    async def _run(self, task_id: TaskId) -> None:
        task = self._store.get_task(task_id)
        if task is None or task.status in FINAL_STATUSES:
            return
        if task.status is TaskStatus.PENDING:
            await sleep_until(task.submit_time + self._timings.pending)
            task = self._store.get_task(task_id)
            if task is None or task.status is not TaskStatus.PENDING:
                return  # canceled while waiting
            task = self._update(task, status=TaskStatus.PRE_PROCESSING, scheduled_time=time.time())
        self._counters.task_started(task.account, task.model)
        try:
            await self._advance(task)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("task %s failed", task_id)
            self._finish(task, TaskStatus.FAILED, code="InternalError", message="The task failed.")
        finally:
            self._counters.task_stopped(task.account, task.model)

    async def _advance(self, task: Task) -> None:
        timings, fate = self._timings, task.fate
        start = task.scheduled_time or time.time()
        ends = dict(zip(_PHASES, _cumulative(start, timings), strict=True))
        for phase in _PHASES[_PHASES.index(task.status) :]:
            if task.status is not phase:
                task = self._update(task, status=phase)
            if fate is not None and fate.phase == phase.value:
                if fate.fate == "never":
                    await sleep_until(task.submit_time + timings.stuck)
                    message = "The task did not finish in time."
                    self._finish(task, TaskStatus.FAILED, code="InternalError.Timeout", message=message)
                    return
                await sleep_until(ends[phase])
                self._finish(task, TaskStatus.FAILED, code=fate.code, message=fate.message)
                return
            if phase is TaskStatus.POST_PROCESSING:
                work = self._workers[task.model](task)
                result, _ = await asyncio.gather(work, sleep_until(ends[phase]))
                self._finish(task, TaskStatus.SUCCEEDED, **result)
                return
            await sleep_until(ends[phase])

    def _update(self, task: Task, **changes: Any) -> Task:
        current = self._store.get_task(task.task_id) or task
        updated = current.model_copy(update=changes)
        self._store.put_task(updated)
        return updated

    def _finish(self, task: Task, status: TaskStatus, **changes: Any) -> None:
        self._update(task, status=status, end_time=time.time(), **changes)


def _cumulative(start: float, timings: Timings) -> tuple[float, float, float]:
    preprocessed = start + timings.preprocess
    ran = preprocessed + timings.run
    return preprocessed, ran, ran + timings.postprocess
