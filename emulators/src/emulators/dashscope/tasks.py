"""Task query and cancel: `GET /api/v1/tasks/{id}`, `POST /api/v1/tasks/{id}/cancel`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from emulators.dashscope.auth import CurrentAccount
from emulators.dashscope.records import Task, TaskStatus
from emulators.dashscope.synthesis import output_ratio
from emulators.deps import EmulatorDep
from emulators.errors import ProviderError
from emulators.ids import TaskId, new_request_id, provider_time
from emulators.settings import EmulatorSettings
from emulators.signing import signed_link

router = APIRouter()


@router.get("/api/v1/tasks/{task_id}")
async def get_task(task_id: str, account: CurrentAccount, emulator: EmulatorDep) -> dict[str, Any]:
    task = emulator.store.get_task(TaskId(task_id))
    if task is None or task.account != account:
        return {"request_id": new_request_id(), "output": {"task_id": task_id, "task_status": "UNKNOWN"}}
    answer: dict[str, Any] = {"request_id": new_request_id(), "output": _output(task, emulator.settings)}
    if task.status is TaskStatus.SUCCEEDED:
        answer["usage"] = usage(task)
    return answer


@router.post("/api/v1/tasks/{task_id}/cancel")
async def cancel_task(task_id: str, account: CurrentAccount, emulator: EmulatorDep) -> dict[str, Any]:
    task = emulator.store.get_task(TaskId(task_id))
    if task is None or task.account != account:
        raise ProviderError(
            400, "UnsupportedOperation", f"Failed to cancel the task: task {task_id} not found."
        )
    if not emulator.scheduler.cancel(task.task_id):
        raise ProviderError(
            400,
            "UnsupportedOperation",
            "Failed to cancel the task, please confirm if the task is in PENDING status.",
        )
    return {"request_id": new_request_id()}


def video_url(task: Task, settings: EmulatorSettings) -> str:
    """`<public_url>/videos/<task_id>.mp4?Expires=<epoch>&OSSAccessKeyId=...&Signature=...`."""
    expires = (task.end_time or 0) + settings.video_url_ttl_seconds
    return signed_link(f"{settings.public_url}/videos", settings.secret, f"{task.task_id}.mp4", expires)


def _output(task: Task, settings: EmulatorSettings) -> dict[str, Any]:
    output: dict[str, Any] = {
        "task_id": task.task_id,
        "task_status": task.status.value,
        "submit_time": provider_time(task.submit_time),
    }
    if task.scheduled_time is not None:
        output["scheduled_time"] = provider_time(task.scheduled_time)
    if task.end_time is not None:
        output["end_time"] = provider_time(task.end_time)
    if task.status is TaskStatus.SUCCEEDED and task.output_template_id:
        output["template_id"] = task.output_template_id
    elif task.status is TaskStatus.SUCCEEDED:
        output["video_url"] = video_url(task, settings)
    if task.status is TaskStatus.FAILED:
        output["code"] = task.code
        output["message"] = task.message
    return output


def usage(task: Task) -> dict[str, Any]:
    if task.output_template_id:
        return {"video_duration": task.video_duration}
    return {"video_duration": task.video_duration, "video_ratio": output_ratio(task)}
