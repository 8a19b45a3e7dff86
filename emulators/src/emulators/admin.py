"""Test and benchmark controls under `/admin/`: health, configuration, counters, tasks, reset (both
providers' state; cutout.pro's own controls are under `/admin/cutout/`)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import ValidationError

from emulators.config import RuntimeConfig
from emulators.dashscope.tasks import usage
from emulators.deps import EmulatorDep
from emulators.errors import error_json
from emulators.files import empty_dir

router = APIRouter(prefix="/admin")
FILE_DIRS = ("oss", "inputs", "videos", "cutout")


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/config")
async def get_config(emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.controls.config.model_dump(mode="json")


@router.put("/config", response_model=None)
async def put_config(emulator: EmulatorDep, body: Annotated[dict[str, Any], Body()]) -> Any:
    """Replace the sections given (faults, quotas, accounts, task_fates, seed, ...); keep the rest."""
    current = emulator.controls.config.model_dump(mode="json")
    try:
        config = RuntimeConfig.model_validate(current | body)
    except (ValidationError, ValueError) as exc:
        return error_json(400, "InvalidParameter", str(exc))
    emulator.controls.configure(config)
    return config.model_dump(mode="json")


@router.get("/counters")
async def counters(emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.counters.snapshot()


@router.get("/tasks")
async def all_tasks(emulator: EmulatorDep) -> list[dict[str, Any]]:
    """Every task of every account, oldest first, with its scripted fate and its times (epoch s)."""
    return [
        task.model_dump(
            mode="json",
            include={
                "task_id",
                "account",
                "model",
                "status",
                "template_id",
                "fate",
                "submit_time",
                "scheduled_time",
                "end_time",
            },
        )
        | {"output_template_id": task.output_template_id, "usage": usage(task) if task.end_time else None}
        for task in emulator.store.tasks()
    ]


@router.post("/reset")
async def reset(emulator: EmulatorDep) -> dict[str, str]:
    """Drop all state and files; go back to the configuration the emulator started with."""
    await emulator.scheduler.close()
    emulator.store.reset()
    emulator.counters.reset()
    emulator.controls.restore()
    await emulator.cutout.reset()
    for name in FILE_DIRS:
        await asyncio.to_thread(empty_dir, emulator.settings.data_dir / name)
    return {"status": "reset"}
