"""`animate-anyone-template-gen2`: make a motion template from a video (asynchronous only).

The finished task's `output.template_id` is a new template that only this account can use.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from emulators.dashscope.auth import CurrentAccount, OssResolve, current_account, require_async
from emulators.dashscope.clips import MAX_VIDEO_BYTES, inspect_clip
from emulators.dashscope.fetch import fetch_input
from emulators.dashscope.records import Task, Template
from emulators.dashscope.scheduler import Worker
from emulators.dashscope.store import Store
from emulators.dashscope.templates import motion_for
from emulators.deps import EmulatorDep
from emulators.errors import invalid_parameter
from emulators.fates import choose_fate
from emulators.files import write_file
from emulators.ids import new_request_id, new_task_id, new_template_id

TEMPLATE_MODEL = "animate-anyone-template-gen2"
TEMPLATE_PATH = "/api/v1/services/aigc/image2video/aa-template-generation"

router = APIRouter()


class TemplateInput(BaseModel):
    video_url: str


class TemplateRequest(BaseModel):
    model: str
    input: TemplateInput
    parameters: dict[str, Any] = {}


@router.post(TEMPLATE_PATH + "/", dependencies=[Depends(current_account), Depends(require_async)])
@router.post(
    TEMPLATE_PATH, dependencies=[Depends(current_account), Depends(require_async)], include_in_schema=False
)
async def submit_template(
    body: TemplateRequest, account: CurrentAccount, oss_resolve: OssResolve, emulator: EmulatorDep
) -> dict[str, Any]:
    if body.model != TEMPLATE_MODEL:
        raise invalid_parameter("Model not exist.")
    settings = emulator.settings
    data = await fetch_input(
        body.input.video_url,
        model=body.model,
        account=account,
        oss_resolve=oss_resolve,
        store=emulator.store,
        limit_seconds=settings.download_timeout_seconds,
        max_bytes=MAX_VIDEO_BYTES,
    )
    clip = await asyncio.to_thread(inspect_clip, data)
    fate = choose_fate(emulator.controls, model=body.model, sha256=clip.sha256, marks=clip.marks)
    task_id = new_task_id()
    input_path = settings.data_dir / "inputs" / f"{task_id}.{clip.extension}"
    await asyncio.to_thread(write_file, input_path, clip.data)
    task = Task(
        task_id=task_id,
        account=account,
        model=body.model,
        input_path=input_path,
        input_sha256=clip.sha256,
        submit_time=time.time(),
        video_duration=clip.seconds,
        fate=fate,
    )
    emulator.counters.record_submission(account, body.model, clip.sha256, "")
    emulator.scheduler.submit(task)
    return {"request_id": new_request_id(), "output": {"task_id": task_id, "task_status": "PENDING"}}


async def _make_template(store: Store, task: Task) -> dict[str, Any]:
    template = Template(
        template_id=new_template_id(),
        motion=motion_for(task.input_sha256),
        account=task.account,
        seconds=task.video_duration,
        created_at=time.time(),
    )
    store.put_template(template)
    return {"output_template_id": template.template_id}


def make_template_maker(store: Store) -> Worker:
    return partial(_make_template, store)
