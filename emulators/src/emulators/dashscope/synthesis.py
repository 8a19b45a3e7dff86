"""`animate-anyone-gen2`: submit a video synthesis task (asynchronous only)."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, StrictBool

from emulators.config import Fate
from emulators.dashscope.auth import CurrentAccount, OssResolve, current_account, require_async
from emulators.dashscope.fetch import fetch_input
from emulators.dashscope.images import MAX_IMAGE_BYTES, inspect_photo
from emulators.dashscope.records import Task
from emulators.dashscope.scheduler import Worker
from emulators.dashscope.store import Store
from emulators.dashscope.templates import find_template, template_seconds
from emulators.dashscope.verdict import judge
from emulators.deps import EmulatorDep
from emulators.errors import ProviderError, invalid_parameter
from emulators.fates import choose_fate
from emulators.files import write_file
from emulators.ids import new_request_id, new_task_id
from emulators.render_once import copy_of_render
from emulators.settings import EmulatorSettings
from emulators.video import Motion, render_video

SYNTHESIS_MODEL = "animate-anyone-gen2"
SUBMIT_PATH = "/api/v1/services/aigc/image2video/video-synthesis"
FRAME_SIZES = {"9:16": (360, 640), "3:4": (480, 640)}

router = APIRouter()


class SynthesisInput(BaseModel):
    image_url: str
    template_id: str


class SynthesisParameters(BaseModel):
    use_ref_img_bg: StrictBool = False
    video_ratio: str = "9:16"


class SynthesisRequest(BaseModel):
    model: str
    input: SynthesisInput
    parameters: SynthesisParameters = SynthesisParameters()


def output_ratio(task: Task) -> str:
    """The ratio only applies when the photo's own background is kept; otherwise 9:16."""
    return task.video_ratio if task.use_ref_img_bg else "9:16"


@router.post(SUBMIT_PATH + "/", dependencies=[Depends(current_account), Depends(require_async)])
@router.post(
    SUBMIT_PATH, dependencies=[Depends(current_account), Depends(require_async)], include_in_schema=False
)
async def submit_synthesis(
    body: SynthesisRequest, account: CurrentAccount, oss_resolve: OssResolve, emulator: EmulatorDep
) -> dict[str, Any]:
    if body.model != SYNTHESIS_MODEL:
        raise invalid_parameter("Model not exist.")
    template_id = body.input.template_id
    if find_template(emulator.store, account, template_id) is None:
        raise ProviderError(
            400, "InvalidFile.Template.Content", f"The template {template_id} does not exist or is not yours."
        )
    if body.parameters.video_ratio not in FRAME_SIZES:
        raise invalid_parameter("The video_ratio parameter must be one of 9:16, 3:4.")
    settings = emulator.settings
    data = await fetch_input(
        body.input.image_url,
        model=body.model,
        account=account,
        oss_resolve=oss_resolve,
        store=emulator.store,
        limit_seconds=settings.download_timeout_seconds,
        max_bytes=MAX_IMAGE_BYTES,
    )
    photo = inspect_photo(data)
    verdict = judge(photo, emulator.store.get_outcome(photo.sha256))
    rejected = None
    if not verdict.check_pass:
        code = verdict.code or "InvalidFile.Content"
        rejected = Fate(fate="fail", code=code, message=verdict.reason, phase="PRE-PROCESSING")
    fate = choose_fate(
        emulator.controls, model=body.model, sha256=photo.sha256, marks=photo.marks, fallback=rejected
    )
    task_id = new_task_id()
    input_path = settings.data_dir / "inputs" / f"{task_id}.{photo.extension}"
    await asyncio.to_thread(write_file, input_path, photo.data)
    task = Task(
        task_id=task_id,
        account=account,
        model=body.model,
        input_path=input_path,
        input_sha256=photo.sha256,
        submit_time=time.time(),
        template_id=template_id,
        use_ref_img_bg=body.parameters.use_ref_img_bg,
        video_ratio=body.parameters.video_ratio,
        fate=fate,
    )
    emulator.counters.record_submission(account, body.model, photo.sha256, template_id)
    emulator.scheduler.submit(task)
    return {"request_id": new_request_id(), "output": {"task_id": task_id, "task_status": "PENDING"}}


async def _render(settings: EmulatorSettings, store: Store, task: Task) -> dict[str, Any]:
    """Render the photo into an MP4 that moves like the template (in a thread)."""
    template = find_template(store, task.account, task.template_id)
    if template is None:
        raise RuntimeError(f"template {task.template_id} is gone")
    out_path = settings.data_dir / "videos" / f"{task.task_id}.mp4"
    size = FRAME_SIZES[output_ratio(task)]
    render = partial(
        render_video,
        task.input_path,
        motion=Motion(template.motion),
        seconds=template_seconds(template, settings.video_seconds),
        size=size,
        keep_bg=task.use_ref_img_bg,
    )
    if settings.render == "once":
        shared = settings.data_dir / "videos" / f"shared-{task.template_id}-{size[0]}x{size[1]}.mp4"
        duration = await copy_of_render(shared, out_path, render)
    else:
        duration = await asyncio.to_thread(render, out_path)
    return {"video_path": out_path, "video_duration": duration}


def make_renderer(settings: EmulatorSettings, store: Store) -> Worker:
    return partial(_render, settings, store)
