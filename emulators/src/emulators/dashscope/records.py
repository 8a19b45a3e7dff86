"""What the emulator keeps: uploaded files, tasks, templates and scripted detection answers."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from emulators.config import Fate
from emulators.ids import AccountId, TaskId
from emulators.tables import Record


class OssObject(Record):
    """A file uploaded through a policy: usable as `oss://<key>` by its account and model only."""

    key: str
    account: AccountId
    model: str
    path: Path
    created_at: float


class DetectOutcome(Record):
    """A scripted detection answer for one image, keyed by the image's sha256."""

    sha256: str
    check_pass: bool
    reason: str
    code: str | None = None
    bodystyle: str | None = None


class Template(Record):
    """A motion template: a stock one (no account) or one an account generated from a video."""

    template_id: str
    motion: str
    account: AccountId | None = None
    # Stock templates scale EMULATOR_VIDEO_SECONDS; generated ones last as long as their video.
    length_scale: float = 1.0
    seconds: float | None = None
    created_at: float = 0.0


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


class Task(Record):
    task_id: TaskId
    account: AccountId
    model: str
    # The photo (synthesis) or the motion video (template generation), copied at submit.
    input_path: Path
    input_sha256: str
    submit_time: float
    template_id: str = ""
    use_ref_img_bg: bool = False
    video_ratio: str = "9:16"
    status: TaskStatus = TaskStatus.PENDING
    scheduled_time: float | None = None
    end_time: float | None = None
    # Decided at submit (scripted or from the person check); None: the task succeeds.
    fate: Fate | None = None
    video_path: Path | None = None
    video_duration: float | None = None
    output_template_id: str | None = None
    code: str | None = None
    message: str | None = None

    @property
    def lane(self) -> tuple[AccountId, str]:
        """Tasks of one lane run one at a time, in submit order."""
        return (self.account, self.model)
