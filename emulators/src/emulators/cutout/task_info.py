"""What a cutout.pro job answers: `getTaskInfo`'s `data`, which is also the completion notice's
`eventData`, with `resultUrl` and `gifUrl` as signed links valid `EMULATOR_CUTOUT_RESULT_TTL_SECONDS` from
the job's end (served by `results`)."""

from __future__ import annotations

from typing import Any

from emulators.cutout.dialect import PREFIX
from emulators.cutout.records import FAILED, FINISHED, CutoutTask
from emulators.settings import EmulatorSettings
from emulators.signing import signed_link

RESULTS_ROUTE = f"{PREFIX}/results"


def task_data(task: CutoutTask, settings: EmulatorSettings) -> dict[str, Any]:
    """`{taskId, status, resultUrl, gifUrl?}`: the links once finished (null before), `gifUrl` only when
    asked for with `outputFormat=gif`, and `msg` (why) when the job failed."""
    finished = task.status == FINISHED
    data: dict[str, Any] = {"taskId": task.task_id, "status": task.status, "resultUrl": None}
    if finished:
        data["resultUrl"] = _link(settings, task, ".mp4")
    if task.gif:
        data["gifUrl"] = _link(settings, task, ".gif") if finished else None
    if task.status == FAILED:
        data["msg"] = task.msg
    return data


def _link(settings: EmulatorSettings, task: CutoutTask, suffix: str) -> str:
    expires = (task.end_time or 0) + settings.cutout_result_ttl_seconds
    base = f"{settings.public_url}{RESULTS_ROUTE}"
    return signed_link(base, settings.secret, f"{task.task_id}{suffix}", expires)
