"""`animate-anyone-detect-gen2`: check that a photo suits Animate Anyone (synchronous only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from emulators.dashscope.auth import CurrentAccount, OssResolve, current_account, forbid_async
from emulators.dashscope.fetch import fetch_input
from emulators.dashscope.images import MAX_IMAGE_BYTES, inspect_photo
from emulators.dashscope.verdict import LIMIT_REASONS, Verdict, judge
from emulators.deps import EmulatorDep
from emulators.errors import ProviderError, invalid_parameter
from emulators.ids import new_request_id

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
    data = await fetch_input(
        body.input.image_url,
        model=body.model,
        account=account,
        oss_resolve=oss_resolve,
        store=emulator.store,
        limit_seconds=emulator.settings.download_timeout_seconds,
        max_bytes=MAX_IMAGE_BYTES,
    )
    try:
        photo = inspect_photo(data)
    except ProviderError as error:
        # The provider documents a size failure both ways; the configuration picks one.
        as_check = emulator.controls.config.detect_limit_failures == "check_pass"
        if not as_check or error.code not in LIMIT_REASONS:
            raise
        verdict = Verdict(False, "", LIMIT_REASONS[error.code])
    else:
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
