"""`animate-anyone-gen2`: submit a video synthesis task (asynchronous only)."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, StrictBool

from emulators.auth import CurrentAccount, OssResolve, current_account, require_async
from emulators.deps import EmulatorDep
from emulators.errors import ProviderError, invalid_parameter
from emulators.files import write_file
from emulators.ids import new_request_id, new_task_id
from emulators.images import fetch_image, inspect_photo
from emulators.scheduler import Renderer
from emulators.store import Task
from emulators.templates import STOCK_TEMPLATES, find_template
from emulators.verdict import judge
from emulators.video import render_video

SYNTHESIS_MODEL = "animate-anyone-gen2"
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


@router.post(
    "/api/v1/services/aigc/image2video/video-synthesis/",
    dependencies=[Depends(current_account), Depends(require_async)],
)
@router.post(
    "/api/v1/services/aigc/image2video/video-synthesis",
    dependencies=[Depends(current_account), Depends(require_async)],
    include_in_schema=False,
)
async def submit_synthesis(
    body: SynthesisRequest, account: CurrentAccount, oss_resolve: OssResolve, emulator: EmulatorDep
) -> dict[str, Any]:
    if body.model != SYNTHESIS_MODEL:
        raise invalid_parameter("Model not exist.")
    template_id = body.input.template_id
    if find_template(template_id) is None:
        raise ProviderError(
            400, "InvalidFile.Template.Content", f"The template {template_id} does not exist or is not yours."
        )
    if body.parameters.video_ratio not in FRAME_SIZES:
        raise invalid_parameter("The video_ratio parameter must be one of 9:16, 3:4.")
    settings = emulator.settings
    data = await fetch_image(
        body.input.image_url,
        model=body.model,
        account=account,
        oss_resolve=oss_resolve,
        store=emulator.store,
        limit_seconds=settings.download_timeout_seconds,
    )
    photo = inspect_photo(data)
    verdict = judge(photo, emulator.store.get_outcome(photo.sha256))
    task_id = new_task_id()
    image_path = settings.data_dir / "inputs" / f"{task_id}.{photo.extension}"
    await asyncio.to_thread(write_file, image_path, photo.data)
    task = Task(
        task_id=task_id,
        account=account,
        model=body.model,
        image_path=image_path,
        image_sha256=photo.sha256,
        template_id=template_id,
        use_ref_img_bg=body.parameters.use_ref_img_bg,
        video_ratio=body.parameters.video_ratio,
        submit_time=time.time(),
        reject_code=None if verdict.check_pass else verdict.code or "InvalidFile.Content",
        reject_reason=None if verdict.check_pass else verdict.reason,
    )
    emulator.counters.record_submission(account, photo.sha256, template_id)
    emulator.scheduler.submit(task)
    return {"request_id": new_request_id(), "output": {"task_id": task_id, "task_status": "PENDING"}}


def _render_task(videos_dir: Path, video_seconds: float, task: Task) -> tuple[Path, float]:
    template = STOCK_TEMPLATES[task.template_id]
    out_path = videos_dir / f"{task.task_id}.mp4"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    size = FRAME_SIZES[output_ratio(task)]
    seconds = video_seconds * template.length_scale
    duration = render_video(task.image_path, out_path, template.motion, seconds, size, task.use_ref_img_bg)
    return out_path, duration


def make_renderer(data_dir: Path, video_seconds: float) -> Renderer:
    return partial(_render_task, data_dir / "videos", video_seconds)
