"""cutout.pro's API under `/cutout/api/v1/faceDriven/`, its result files, and its admin calls.

Envelopes as documented: `{"code": 0, "data": ..., "msg": null, "time": <ms>}`. cutout.pro documents no
error codes, so these are the emulator's: HTTP 401 `code` 401 for a missing key; HTTP 400 with `code`
4001 (format), 4002 (size), 4003 (resolution), 4004 (the image URL cannot be fetched), 4005 (a bad
parameter); HTTP 404 `code` 4040 for an unknown task. With no `EMULATOR_ACCOUNTS`, any non-empty key is
its own account; with them, a key they do not list is refused too.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from emulators.cutout.photos import Refused, check_photo
from emulators.deps import EmulatorDep
from emulators.download import download
from emulators.errors import ProviderError
from emulators.signing import video_signature_ok

router = APIRouter(prefix="/cutout")
admin = APIRouter(prefix="/admin/cutout")  # like every /admin/ call: never faulted, throttled or counted
MAX_FETCH_BYTES = 16 * 1024 * 1024


def envelope(data: Any, code: int = 0, msg: str | None = None, status: int = 200) -> JSONResponse:
    body = {"code": code, "data": data, "msg": msg, "time": int(time.time() * 1000)}
    return JSONResponse(body, status_code=status)


def _account(apikey: str | None, emulator: EmulatorDep) -> str:
    if not apikey:
        raise Refused(401, "Missing APIKEY header.", status=401)
    accounts = emulator.controls.config.accounts
    if accounts:
        for account, keys in accounts.items():
            if apikey in keys:
                return str(account)
        raise Refused(401, "Invalid API key.", status=401)
    return apikey


@router.get("/api/v1/faceDriven/submitTaskByUrl")
async def submit(
    emulator: EmulatorDep,
    image_url: Annotated[str, Query(alias="imageUrl")] = "",
    template_id: Annotated[str, Query(alias="templateId")] = "",
    output_format: Annotated[str, Query(alias="outputFormat")] = "",
    voice_url: Annotated[str, Query(alias="voiceUrl")] = "",
    apikey: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    try:
        account = _account(apikey, emulator)
        if template_id not in {"0", "1", "2", "3", "4", "5"}:
            raise Refused(4005, "templateId must be one of 0, 1, 2, 3, 4, 5.")
        if voice_url and template_id != "0":
            raise Refused(4005, "voiceUrl needs templateId 0.")
        if output_format not in ("", "gif"):
            raise Refused(4005, "outputFormat can only be gif.")
        if not image_url.startswith(("http://", "https://")):
            raise Refused(4004, "imageUrl must be an http(s) URL of the image.")
        try:
            photo = await download(image_url, emulator.settings.download_timeout_seconds, MAX_FETCH_BYTES)
        except ProviderError as exc:
            raise Refused(4004, f"The image cannot be downloaded: {exc.message}") from exc
        extension, no_face = check_photo(photo)
    except Refused as refused:
        return envelope(None, refused.code, refused.msg, refused.status)
    task = emulator.cutout.submit(
        account, int(template_id), output_format == "gif", photo, extension, no_face
    )
    return envelope(task.task_id)


@router.get("/api/v1/faceDriven/getTaskInfo")
async def task_info(
    emulator: EmulatorDep,
    task_id: Annotated[str, Query(alias="taskId")] = "",
    apikey: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    try:
        account = _account(apikey, emulator)
    except Refused as refused:
        return envelope(None, refused.code, refused.msg, refused.status)
    jobs = emulator.cutout
    task = jobs.get(int(task_id), account) if task_id.isdigit() else None
    if task is None:
        return envelope(None, 4040, f"No task {task_id}.", 404)
    return envelope(jobs.info(task))


@router.api_route("/results/{name}", methods=["GET", "HEAD"], include_in_schema=False)
async def result(
    name: str,
    emulator: EmulatorDep,
    expires: Annotated[int | None, Query(alias="Expires")] = None,
    signature: Annotated[str | None, Query(alias="Signature")] = None,
) -> Any:
    path = emulator.settings.data_dir / "cutout" / name
    if (
        expires is None
        or signature is None
        or not video_signature_ok(emulator.settings.secret, name, expires, signature)
    ):
        return JSONResponse({"message": "AccessDenied"}, status_code=403)
    if time.time() > expires or "/" in name or not path.is_file():
        return JSONResponse({"message": "NoSuchKey"}, status_code=404)
    return FileResponse(path, media_type="image/gif" if name.endswith(".gif") else "video/mp4")


class CutoutConfig(BaseModel):
    callback_url: str | None = None
    run_seconds: float | None = None


@admin.get("/config", include_in_schema=False)
async def get_config(emulator: EmulatorDep) -> dict[str, Any]:
    jobs = emulator.cutout
    return {"callback_url": jobs.callback_url, "run_seconds": jobs.run_seconds}


@admin.put("/config", include_in_schema=False)
async def put_config(emulator: EmulatorDep, config: CutoutConfig) -> dict[str, Any]:
    jobs = emulator.cutout
    if config.callback_url is not None:
        jobs.callback_url = config.callback_url
    if config.run_seconds is not None:
        jobs.run_seconds = max(0.0, config.run_seconds)
    return await get_config(emulator)


@admin.get("/tasks", include_in_schema=False)
async def list_tasks(emulator: EmulatorDep) -> dict[str, Any]:
    jobs = emulator.cutout
    tasks = [{**vars(t), "info": jobs.info(t)} for t in jobs.all()]
    return {"tasks": tasks, "callbacks_failed": jobs.callbacks_failed}
