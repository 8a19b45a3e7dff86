"""Emulator state: in memory for reading, written through to the state database.

Retention is applied on read (an expired file or forgotten task is simply not found) and by
`purge`, which drops the records and returns the files to delete.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from emulators.dashscope.records import FINAL_STATUSES, DetectOutcome, OssObject, Task, Template
from emulators.db import Database
from emulators.ids import TaskId
from emulators.tables import Table


@dataclass(frozen=True)
class Retention:
    files: float
    tasks: float
    video_urls: float


class Store:
    def __init__(self, db: Database, retention: Retention) -> None:
        self.retention = retention
        self._objects = Table(db, "object", OssObject)
        self._tasks = Table(db, "task", Task)
        self._outcomes = Table(db, "detect_outcome", DetectOutcome)
        self._templates = Table(db, "template", Template)

    def put_object(self, obj: OssObject) -> None:
        self._objects.put(obj.key, obj)

    def get_object(self, key: str) -> OssObject | None:
        obj = self._objects.rows.get(key)
        return obj if obj is not None and not self._file_expired(obj, time.time()) else None

    def put_task(self, task: Task) -> None:
        self._tasks.put(task.task_id, task)

    def get_task(self, task_id: TaskId) -> Task | None:
        task = self._tasks.rows.get(task_id)
        return task if task is not None and not self._forgotten(task, time.time()) else None

    def tasks(self) -> Iterator[Task]:
        """Every task not yet forgotten, oldest first."""
        now = time.time()
        live = (task for task in self._tasks.rows.values() if not self._forgotten(task, now))
        return iter(sorted(live, key=lambda task: task.submit_time))

    def put_outcome(self, outcome: DetectOutcome) -> None:
        self._outcomes.put(outcome.sha256, outcome)

    def get_outcome(self, sha256: str) -> DetectOutcome | None:
        return self._outcomes.rows.get(sha256)

    def put_template(self, template: Template) -> None:
        self._templates.put(template.template_id, template)

    def get_template(self, template_id: str) -> Template | None:
        return self._templates.rows.get(template_id)

    def purge(self, now: float) -> list[Path]:
        """Drop expired files and long-finished tasks; return their files for deletion."""
        doomed: list[Path] = []
        for obj in [o for o in self._objects.rows.values() if self._file_expired(o, now)]:
            self._objects.drop(obj.key)
            doomed.append(obj.path)
        keep_for = max(self.retention.tasks, self.retention.video_urls)
        for task in list(self._tasks.rows.values()):
            if task.status in FINAL_STATUSES and (task.end_time or now) + keep_for <= now:
                self._tasks.drop(task.task_id)
                doomed += [path for path in (task.input_path, task.video_path) if path is not None]
        return doomed

    def reset(self) -> None:
        for table in (self._objects, self._tasks, self._outcomes, self._templates):
            table.clear()

    def _file_expired(self, obj: OssObject, now: float) -> bool:
        return obj.created_at + self.retention.files <= now

    def _forgotten(self, task: Task, now: float) -> bool:
        """Finished tasks are kept `retention.tasks`; then the provider answers UNKNOWN."""
        return task.status in FINAL_STATUSES and (task.end_time or now) + self.retention.tasks <= now
