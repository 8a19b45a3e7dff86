"""Test and benchmark controls under `/admin/`: health, scripted detection, counters, reset."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from emulators.deps import EmulatorDep
from emulators.files import empty_dir
from emulators.store import DetectOutcome

router = APIRouter(prefix="/admin")


class DetectOutcomeCreate(BaseModel):
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    check_pass: bool
    reason: str = ""
    # None: a failed check is HTTP 200 `check_pass: false`; a code (e.g. InvalidFile.Content): HTTP 400.
    code: str | None = None
    bodystyle: Literal["full", "half"] | None = None


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/detect-outcomes")
async def set_detect_outcome(body: DetectOutcomeCreate, emulator: EmulatorDep) -> dict[str, Any]:
    emulator.store.put_outcome(DetectOutcome(**body.model_dump()))
    return body.model_dump()


@router.get("/counters")
async def counters(emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.counters.snapshot()


@router.post("/reset")
async def reset(emulator: EmulatorDep) -> dict[str, str]:
    await emulator.scheduler.close()
    emulator.store.reset()
    emulator.counters.reset()
    await asyncio.to_thread(empty_dir, emulator.settings.data_dir)
    return {"status": "reset"}
