"""The clock of cutout.pro's jobs: processing (0) for `cutout_run_seconds`, then finished (1) with the MP4
(and GIF), or failed (2) with a `msg`: no face in the photo, or a scripted fate (`fail`, or `never`: still
processing until `EMULATOR_STUCK_TASK_SECONDS`, then failed).

The jobs of one account run `cutout_jobs_per_account` at a time (1 by default), the rest wait, still
processing, in submit order: the shared `Lanes`, keyed by account. A job's end is fixed when it starts
and kept in the state database, so after a restart `resume` carries each job on where its clock says. When
a job ends its notice goes to the account's callback URL, off the clock (`notices`)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from emulators.controls import Controls
from emulators.counters import Counters
from emulators.cutout.notices import Notices, Outcome
from emulators.cutout.records import FAILED, FINISHED, MODEL, PROCESSING, CutoutTask
from emulators.cutout.render import render_result
from emulators.cutout.store import CutoutStore, photos_dir, results_dir
from emulators.cutout.task_info import task_data
from emulators.ids import AccountId
from emulators.lanes import Lanes, sleep_until
from emulators.settings import EmulatorSettings

log = logging.getLogger(__name__)
STUCK_MESSAGE = "The task did not finish in time."
INTERNAL_MESSAGE = "The task failed because of an internal error."


class CutoutJobs:
    def __init__(
        self,
        store: CutoutStore,
        counters: Counters,
        controls: Controls,
        settings: EmulatorSettings,
        notices: Notices,
    ) -> None:
        self.store = store
        self._counters, self._controls, self._settings, self._notices = counters, controls, settings, notices
        self._lanes: Lanes[AccountId, int] = Lanes(self._run)

    def submit(self, task: CutoutTask) -> None:
        self.store.put(task)
        self._counters.record_submission(task.account, MODEL, task.sha256, str(task.template))
        self._queue(task)

    def resume(self) -> None:
        """Carry on after a restart: started jobs first, then the waiting ones in submit order; and send the
        notices of jobs that ended without one."""
        tasks = self.store.tasks()
        for task in sorted(tasks, key=lambda t: (t.scheduled_time is None, t.submit_time)):
            if task.status == PROCESSING:
                self._queue(task)
            elif task.notice is None:
                self._notify(task)

    async def reset(self) -> None:
        await self.close()
        self.store.reset()

    async def close(self) -> None:
        await self._lanes.close()
        await self._notices.close()

    def _queue(self, task: CutoutTask) -> None:
        self._lanes.add(task.account, task.task_id, self._controls.config.cutout_jobs_per_account)

    async def _run(self, task_id: int) -> None:
        task = self.store.get(task_id)
        if task is None or task.status != PROCESSING:
            return
        if task.scheduled_time is None:
            now = time.time()
            task = self._update(
                task, scheduled_time=now, ends_at=now + self._controls.config.cutout_run_seconds
            )
        self._counters.task_started(task.account, MODEL)
        try:
            task = await self._work(task)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("cutout.pro job %s failed", task_id)
            task = self._end(task, FAILED, code="InternalError", msg=INTERNAL_MESSAGE)
        finally:
            self._counters.task_stopped(task.account, MODEL)
        self._notify(task)

    async def _work(self, task: CutoutTask) -> CutoutTask:
        fate, ends_at = task.fate, task.ends_at or time.time()
        if fate is not None and fate.fate == "never":
            await sleep_until(task.submit_time + self._settings.stuck_task_seconds)
            return self._end(task, FAILED, code="Timeout", msg=STUCK_MESSAGE)
        if fate is not None:
            await sleep_until(ends_at)
            return self._end(task, FAILED, code=fate.code, msg=fate.message)
        folder = results_dir(self._settings)
        gif = folder / f"{task.task_id}.gif" if task.gif else None
        video = folder / f"{task.task_id}.mp4"
        photo = photos_dir(self._settings) / task.photo
        once = self._settings.render == "once"
        work = render_result(photo, video, task.template, hd=task.hd, gif=gif, once=once)
        seconds, _ = await asyncio.gather(work, sleep_until(ends_at))
        return self._end(task, FINISHED, seconds=seconds)

    def _end(self, task: CutoutTask, status: int, **changes: Any) -> CutoutTask:
        return self._update(task, status=status, end_time=time.time(), **changes)

    def _notify(self, task: CutoutTask) -> None:
        config = self._controls.config
        url = config.cutout_callback_urls.get(task.account) or config.cutout_callback_url
        if not url:
            self._update(task, notice="unsent")
            return

        def done(outcome: Outcome) -> None:
            current = self.store.get(task.task_id)
            if current is not None:
                self._update(current, notice=outcome)

        self._notices.send(url, task_data(task, self._settings), done)

    def _update(self, task: CutoutTask, **changes: Any) -> CutoutTask:
        updated = task.model_copy(update=changes)
        self.store.put(updated)
        return updated
