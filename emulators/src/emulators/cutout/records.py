"""What the emulator keeps of cutout.pro: its jobs and the scripted face answers (the state database)."""

from __future__ import annotations

from typing import Literal

from emulators.config import Fate
from emulators.ids import AccountId
from emulators.tables import Record

# The model name of cutout.pro's jobs: in the counters, and to aim a `task_fates` rule at them.
MODEL = "cutout-face-driven"
PROCESSING, FINISHED, FAILED = 0, 1, 2  # `status` as getTaskInfo answers it


class CutoutTask(Record):
    task_id: int
    account: AccountId
    template: int
    gif: bool = False
    hd: bool = False
    voice_url: str | None = None
    photo: str  # the fetched photo's file name (in the data dir's cutout/photos)
    sha256: str
    submit_time: float
    # When it started processing (after the account's earlier jobs) and when processing ends, fixed then.
    scheduled_time: float | None = None
    ends_at: float | None = None
    end_time: float | None = None
    status: int = PROCESSING
    # Decided at submit (scripted, or no face in the photo); None: it finishes with a video.
    fate: Fate | None = None
    code: str | None = None  # why it failed, for the admin view
    msg: str | None = None  # why it failed, as told to the caller
    seconds: float | None = None  # the video's length
    # The completion notice: None until tried, then "delivered", "failed" or "unsent" (no URL was set).
    notice: Literal["delivered", "failed", "unsent"] | None = None


class FaceOutcome(Record):
    """A scripted answer to "is there a face in this photo?", by the photo's sha256."""

    sha256: str
    face: bool
    reason: str = ""
