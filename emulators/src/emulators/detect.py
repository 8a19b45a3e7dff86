"""`animate-anyone-detect-gen2`: check that a photo suits Animate Anyone (synchronous only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from emulators.auth import CurrentAccount, OssResolve, current_account, forbid_async
from emulators.deps import EmulatorDep
from emulators.errors import ProviderError, invalid_parameter
from emulators.ids import new_request_id
from emulators.images import fetch_image, inspect_photo
from emulators.verdict import judge

DETECT_MODEL = "animate-anyone-detect-gen2"

router = APIRouter()


class DetectInput(BaseModel):
    image_url: str


class DetectRequest(BaseModel):
    model: str
    input: DetectInput
    parameters: dict[str, Any] = {}


@router.post(
    "/api/v1/services/aigc/image2video/aa-detect",
    dependencies=[Depends(current_account), Depends(forbid_async)],
)
async def detect(
    body: DetectRequest, account: CurrentAccount, oss_resolve: OssResolve, emulator: EmulatorDep
) -> dict[str, Any]:
    if body.model != DETECT_MODEL:
        raise invalid_parameter("Model not exist.")
    data = await fetch_image(
        body.input.image_url,
        model=body.model,
        account=account,
        oss_resolve=oss_resolve,
        store=emulator.store,
        limit_seconds=emulator.settings.download_timeout_seconds,
    )
    photo = inspect_photo(data)
    verdict = judge(photo, emulator.store.get_outcome(photo.sha256))
    if verdict.code is not None:
        raise ProviderError(400, verdict.code, verdict.reason)
    return {
        "request_id": new_request_id(),
        "output": {
            "check_pass": verdict.check_pass,
            "bodystyle": verdict.bodystyle,
            "reason": verdict.reason,
        },
        "usage": {"image_count": 1},
    }
