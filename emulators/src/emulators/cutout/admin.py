"""cutout.pro's controls under `/admin/cutout/` (like every `/admin/` call: never faulted, throttled or
counted): its run-time settings, its jobs, and scripted face answers. Task fates, faults, quotas, outages,
counters and the reset are the shared ones under `/admin/`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, ValidationError

from emulators.cutout.records import FaceOutcome
from emulators.cutout.task_info import task_data
from emulators.deps import EmulatorDep
from emulators.errors import error_json

router = APIRouter(prefix="/admin/cutout")
# This view's names for the run-time configuration's cutout.pro fields.
CONFIG_FIELDS = {
    "callback_url": "cutout_callback_url",
    "callback_urls": "cutout_callback_urls",
    "run_seconds": "cutout_run_seconds",
    "jobs_per_account": "cutout_jobs_per_account",
}


@router.get("/config")
async def get_config(emulator: EmulatorDep) -> dict[str, Any]:
    config = emulator.controls.config.model_dump(mode="json")
    return {name: config[field] for name, field in CONFIG_FIELDS.items()}


@router.put("/config", response_model=None)
async def put_config(emulator: EmulatorDep, body: dict[str, Any]) -> Any:
    """Change any of `callback_url`, `callback_urls`, `run_seconds`, `jobs_per_account`; the rest of the
    configuration (and its random streams and quota buckets) stays. 400 if invalid (nothing changes)."""
    config = emulator.controls.config
    changed = config.model_copy()  # assignments are validated (`validate_assignment`)
    try:
        for name, value in body.items():
            if name not in CONFIG_FIELDS:
                raise ValueError(f"unknown field {name!r}; known: {sorted(CONFIG_FIELDS)}")
            setattr(changed, CONFIG_FIELDS[name], value)
    except (ValidationError, ValueError) as exc:
        return error_json(400, "InvalidParameter", str(exc))
    for field in CONFIG_FIELDS.values():
        setattr(config, field, getattr(changed, field))
    return await get_config(emulator)


@router.get("/tasks")
async def list_tasks(emulator: EmulatorDep) -> dict[str, Any]:
    """Every job of every account, oldest first: its record (times in epoch seconds: `submit_time`,
    `scheduled_time` when it started processing, `end_time`, also as `ended_at`), and what getTaskInfo
    answers for it (`info`); with the number of notices that could not be delivered."""
    settings = emulator.settings
    tasks = [
        task.model_dump(mode="json") | {"ended_at": task.end_time, "info": task_data(task, settings)}
        for task in emulator.cutout.store.tasks()
    ]
    return {"tasks": tasks, "callbacks_failed": emulator.counters.callbacks["failed"]}


class FaceOutcomeCreate(BaseModel):
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    face: bool
    reason: str = ""


@router.post("/faces")
async def set_face(body: FaceOutcomeCreate, emulator: EmulatorDep) -> dict[str, Any]:
    """Whether the photo with this sha256 shows a face (`face: false`: its jobs fail with `reason`)."""
    emulator.cutout.store.put_face(FaceOutcome(**body.model_dump()))
    return body.model_dump()


@router.get("/faces")
async def list_faces(emulator: EmulatorDep) -> list[dict[str, Any]]:
    return [outcome.model_dump() for outcome in emulator.cutout.store.faces()]


@router.delete("/faces")
async def clear_faces(emulator: EmulatorDep) -> list[dict[str, Any]]:
    emulator.cutout.store.clear_faces()
    return []
