"""cutout.pro's jobs: processing (0) for `EMULATOR_CUTOUT_RUN_SECONDS`, then finished (1) with an MP4 (and
a GIF when asked) of the photo moving like the template, or failed (2) when the photo shows no face. Kept
in the emulator's state database, so a restart on the same data dir carries on. When a job ends, its
notice is POSTed to the account's callback URL (`EMULATOR_CUTOUT_CALLBACK_URL`, or set at run time)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from emulators.cutout.render import render_clip
from emulators.db import Database
from emulators.signing import video_query

log = logging.getLogger(__name__)
KIND = "cutout-task"
EVENT = "EVENT_FACE_DRIVEN_TASK_FINISHED"
CALLBACK_ATTEMPTS = 3


@dataclass
class CutoutTask:
    task_id: int
    account: str
    template: int
    gif: bool
    photo: str  # the input file's name in the data dir
    submitted_at: float
    ends_at: float
    no_face: str | None  # why it fails, if it does
    status: int = 0  # 0 processing, 1 finished, 2 failed
    ended_at: float | None = None


class CutoutJobs:
    def __init__(self, db: Database, folder: Path, public_url: str, secret: str, run_seconds: float) -> None:
        self._db, self._folder, self._public, self._secret = db, folder, public_url.rstrip("/"), secret
        self.run_seconds = run_seconds
        self.callback_url = ""
        self.callbacks_failed = 0
        self._tasks = {int(k): CutoutTask(**json.loads(v)) for k, v in db.load(KIND).items()}
        self._running: set[asyncio.Task[None]] = set()

    def submit(
        self, account: str, template: int, gif: bool, photo: bytes, extension: str, no_face: str | None
    ) -> CutoutTask:
        task_id = max(self._tasks, default=100000) + 1
        name = f"{task_id}.{extension}"
        self._folder.mkdir(parents=True, exist_ok=True)
        (self._folder / name).write_bytes(photo)
        now = time.time()
        task = CutoutTask(task_id, account, template, gif, name, now, now + self.run_seconds, no_face)
        self._save(task)
        self._start(task)
        return task

    def get(self, task_id: int, account: str) -> CutoutTask | None:
        task = self._tasks.get(task_id)
        return task if task is not None and task.account == account else None

    def all(self) -> list[CutoutTask]:
        return sorted(self._tasks.values(), key=lambda t: t.task_id)

    def info(self, task: CutoutTask) -> dict[str, object]:
        """`getTaskInfo`'s `data`."""
        data: dict[str, object] = {"taskId": task.task_id, "status": task.status}
        if task.status == 1:
            data["resultUrl"] = self._link(f"{task.task_id}.mp4")
            if task.gif:
                data["gifUrl"] = self._link(f"{task.task_id}.gif")
        return data

    def resume(self) -> None:
        for task in self._tasks.values():
            if task.status == 0:
                self._start(task)

    async def reset(self) -> None:
        """Drop every job (an admin reset); their files go with the data dir's."""
        await self.close()
        self._tasks.clear()
        self._db.clear_kind(KIND)

    async def close(self) -> None:
        for running in self._running:
            running.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    def _start(self, task: CutoutTask) -> None:
        running = asyncio.get_running_loop().create_task(self._run(task))
        self._running.add(running)
        running.add_done_callback(self._running.discard)

    async def _run(self, task: CutoutTask) -> None:
        if task.no_face is None:
            await asyncio.to_thread(
                render_clip, self._folder / task.photo, self._folder, task.task_id, task.template, task.gif
            )
        await asyncio.sleep(max(0.0, task.ends_at - time.time()))
        task.status, task.ended_at = (2 if task.no_face else 1), time.time()
        self._save(task)
        await self._notify(task)

    async def _notify(self, task: CutoutTask) -> None:
        if not self.callback_url:
            return
        notice = {"eventName": EVENT, "eventData": {**self.info(task), "msg": task.no_face}}
        async with httpx.AsyncClient(timeout=5.0) as http:
            for attempt in range(CALLBACK_ATTEMPTS):
                try:
                    if (await http.post(self.callback_url, json=notice)).is_success:
                        return
                except httpx.HTTPError as exc:
                    log.info("cutout callback of %s failed: %r", task.task_id, exc)
                await asyncio.sleep(0.5 * 2**attempt)
        self.callbacks_failed += 1

    def _link(self, name: str) -> str:
        expires = int(time.time()) + 24 * 3600
        return f"{self._public}/cutout/results/{name}?{video_query(self._secret, name, expires)}"

    def _save(self, task: CutoutTask) -> None:
        self._tasks[task.task_id] = task
        self._db.put(KIND, str(task.task_id), json.dumps(asdict(task)))
