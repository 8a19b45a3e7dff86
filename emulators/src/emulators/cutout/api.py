"""cutout.pro's two calls under `/cutout/api/v1/faceDriven/`: `submitTaskByUrl` and `getTaskInfo`.

Each answers the documented envelope. A submit checks the key, then the parameters, then fetches the photo
(and the voice) and checks it; its job's fate is decided then: a scripted `task_fates` rule (model
`cutout-face-driven`) or `emulator-task` mark, else no face in the photo, else a video.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from emulators.config import Fate
from emulators.cutout.dialect import PREFIX, account_of
from emulators.cutout.envelope import (
    BAD_PARAMETER,
    CANNOT_FETCH,
    NO_SUCH_TASK,
    Refused,
    envelope,
    refusal,
)
from emulators.cutout.photos import MAX_BYTES, check_photo, missing_face
from emulators.cutout.records import MODEL, CutoutTask
from emulators.cutout.store import photos_dir
from emulators.cutout.task_info import task_data
from emulators.deps import Emulator, EmulatorDep
from emulators.download import DownloadFailed, download
from emulators.fates import choose_fate
from emulators.files import write_file

router = APIRouter(prefix=f"{PREFIX}/api/v1/faceDriven")
APIKey = Annotated[str | None, Header(alias="APIKEY")]
TEMPLATES = ("0", "1", "2", "3", "4", "5")


@router.get("/submitTaskByUrl")
async def submit(
    emulator: EmulatorDep,
    apikey: APIKey = None,
    image_url: Annotated[str, Query(alias="imageUrl")] = "",
    template_id: Annotated[str, Query(alias="templateId")] = "",
    output_format: Annotated[str, Query(alias="outputFormat")] = "",
    voice_url: Annotated[str, Query(alias="voiceUrl")] = "",
    is_hd: Annotated[str, Query(alias="isHd")] = "",
) -> JSONResponse:
    try:
        account = account_of(apikey, emulator.controls.config.accounts)
        _check_parameters(image_url, template_id, output_format, voice_url, is_hd)
        photo = check_photo(await _fetch("imageUrl", image_url, emulator))
        if voice_url:
            await _fetch("voiceUrl", voice_url, emulator)
    except Refused as refused:
        return refusal(refused)
    no_face = missing_face(photo, emulator.cutout.store.get_face(photo.sha256))
    fallback = Fate(fate="fail", code="NoFace", message=no_face) if no_face else None
    fate = choose_fate(
        emulator.controls, model=MODEL, sha256=photo.sha256, marks=photo.marks, fallback=fallback
    )
    task_id = emulator.cutout.store.next_task_id()
    name = f"{task_id}.{photo.extension}"
    await asyncio.to_thread(write_file, photos_dir(emulator.settings) / name, photo.data)
    task = CutoutTask(
        task_id=task_id,
        account=account,
        template=int(template_id),
        gif=output_format.lower() == "gif",
        hd=is_hd.lower() == "true",
        voice_url=voice_url or None,
        photo=name,
        sha256=photo.sha256,
        submit_time=time.time(),
        fate=fate,
    )
    emulator.cutout.submit(task)
    return envelope(task_id)


@router.get("/getTaskInfo")
async def get_task_info(
    emulator: EmulatorDep,
    apikey: APIKey = None,
    task_id: Annotated[str, Query(alias="taskId")] = "",
) -> JSONResponse:
    try:
        account = account_of(apikey, emulator.controls.config.accounts)
        if not task_id.strip().isdigit():
            raise Refused(
                BAD_PARAMETER, "taskId is required, a number." if task_id else "taskId is required."
            )
        task = emulator.cutout.store.get(int(task_id))
        if task is None or task.account != account:
            raise Refused(NO_SUCH_TASK, f"There is no task {task_id}.", status=404)
    except Refused as refused:
        return refusal(refused)
    return envelope(task_data(task, emulator.settings))


def _check_parameters(
    image_url: str, template_id: str, output_format: str, voice_url: str, is_hd: str
) -> None:
    if not image_url:
        raise Refused(BAD_PARAMETER, "imageUrl is required.")
    if template_id not in TEMPLATES:
        raise Refused(BAD_PARAMETER, "templateId must be one of 0, 1, 2, 3, 4, 5.")
    if voice_url and template_id != "0":
        raise Refused(BAD_PARAMETER, "voiceUrl can only be used with templateId 0.")
    if output_format.lower() not in ("", "gif"):
        raise Refused(BAD_PARAMETER, "outputFormat can only be gif (an MP4 is made by default).")
    if is_hd.lower() not in ("", "true", "false"):
        raise Refused(BAD_PARAMETER, "isHd must be true or false.")


async def _fetch(parameter: str, url: str, emulator: Emulator) -> bytes:
    """GET the input within `EMULATOR_DOWNLOAD_TIMEOUT_SECONDS`; `Refused` 4004 when it cannot be had."""
    if not url.startswith(("http://", "https://")):
        raise Refused(CANNOT_FETCH, f"{parameter} must be a public http(s) URL.")
    try:
        return await download(url, emulator.settings.download_timeout_seconds, MAX_BYTES + 1)
    except DownloadFailed as exc:
        raise Refused(CANNOT_FETCH, f"The {parameter} file cannot be downloaded: {exc.detail}.") from exc
