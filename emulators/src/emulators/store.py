"""Emulator state behind one small class, so it can later be persisted without touching callers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from emulators.ids import AccountId, TaskId


@dataclass(frozen=True)
class OssObject:
    """A file uploaded through a policy: usable as `oss://<key>` by its account and model only."""

    key: str
    account: AccountId
    model: str
    path: Path
    created_at: float


@dataclass(frozen=True)
class DetectOutcome:
    """A scripted detection answer for one image, keyed by the image's sha256."""

    sha256: str
    check_pass: bool
    reason: str
    code: str | None = None
    bodystyle: str | None = None


class TaskStatus(StrEnum):
    PENDING = "PENDING"
    PRE_PROCESSING = "PRE-PROCESSING"
    RUNNING = "RUNNING"
    POST_PROCESSING = "POST-PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


ACTIVE_STATUSES = frozenset({TaskStatus.PRE_PROCESSING, TaskStatus.RUNNING, TaskStatus.POST_PROCESSING})
FINAL_STATUSES = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED})


@dataclass(frozen=True)
class Task:
    task_id: TaskId
    account: AccountId
    model: str
    image_path: Path
    image_sha256: str
    template_id: str
    use_ref_img_bg: bool
    video_ratio: str
    submit_time: float
    status: TaskStatus = TaskStatus.PENDING
    scheduled_time: float | None = None
    end_time: float | None = None
    video_path: Path | None = None
    video_duration: float | None = None
    code: str | None = None
    message: str | None = None
    # Set at submit when the photo fails the scripted person check: the task will end FAILED with it.
    reject_code: str | None = None
    reject_reason: str | None = None


class MemoryStore:
    def __init__(self) -> None:
        self._objects: dict[str, OssObject] = {}
        self._tasks: dict[TaskId, Task] = {}
        self._outcomes: dict[str, DetectOutcome] = {}

    def put_object(self, obj: OssObject) -> None:
        self._objects[obj.key] = obj

    def get_object(self, key: str) -> OssObject | None:
        return self._objects.get(key)

    def put_task(self, task: Task) -> None:
        self._tasks[task.task_id] = task

    def get_task(self, task_id: TaskId) -> Task | None:
        return self._tasks.get(task_id)

    def put_outcome(self, outcome: DetectOutcome) -> None:
        self._outcomes[outcome.sha256] = outcome

    def get_outcome(self, sha256: str) -> DetectOutcome | None:
        return self._outcomes.get(sha256)

    def reset(self) -> None:
        self._objects.clear()
        self._tasks.clear()
        self._outcomes.clear()
