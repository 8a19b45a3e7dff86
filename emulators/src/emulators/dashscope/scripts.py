"""Scripted outcomes under `/admin/`: detection answers, task fates and outage windows."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from emulators.config import FateRule, OutageSpec
from emulators.dashscope.records import DetectOutcome
from emulators.deps import EmulatorDep

router = APIRouter(prefix="/admin")


class DetectOutcomeCreate(BaseModel):
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    check_pass: bool
    reason: str = ""
    # None: a failed check is HTTP 200 `check_pass: false`; a code (e.g. InvalidFile.Content): HTTP 400.
    code: str | None = None
    bodystyle: Literal["full", "half"] | None = None


@router.post("/detect-outcomes")
async def set_detect_outcome(body: DetectOutcomeCreate, emulator: EmulatorDep) -> dict[str, Any]:
    emulator.store.put_outcome(DetectOutcome(**body.model_dump()))
    return body.model_dump()


@router.post("/task-fates")
async def add_task_fate(rule: FateRule, emulator: EmulatorDep) -> list[dict[str, Any]]:
    """Append a rule to the configuration's `task_fates`; the first matching rule decides."""
    emulator.controls.config.task_fates.append(rule)
    return _fates(emulator)


@router.get("/task-fates")
async def list_task_fates(emulator: EmulatorDep) -> list[dict[str, Any]]:
    return _fates(emulator)


@router.delete("/task-fates")
async def clear_task_fates(emulator: EmulatorDep) -> list[dict[str, Any]]:
    emulator.controls.config.task_fates.clear()
    return []


@router.post("/outage")
async def start_outage(spec: OutageSpec, emulator: EmulatorDep) -> dict[str, object]:
    return emulator.controls.start_outage(spec).public()


@router.get("/outage")
async def get_outage(emulator: EmulatorDep) -> dict[str, object] | None:
    outage = emulator.controls.outage
    return outage.public() if outage is not None else None


@router.delete("/outage")
async def end_outage(emulator: EmulatorDep) -> None:
    emulator.controls.outage = None


def _fates(emulator: EmulatorDep) -> list[dict[str, Any]]:
    return [rule.model_dump(mode="json") for rule in emulator.controls.config.task_fates]
