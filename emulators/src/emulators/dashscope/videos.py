"""Finished videos, served at signed, expiring URLs like OSS presigned links."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from emulators.deps import EmulatorDep
from emulators.errors import oss_error_xml, oss_request_id
from emulators.signing import video_signature_ok

router = APIRouter()


@router.api_route("/videos/{name}", methods=["GET", "HEAD"], include_in_schema=False)
async def get_video(
    name: str,
    emulator: EmulatorDep,
    expires: Annotated[int | None, Query(alias="Expires")] = None,
    signature: Annotated[str | None, Query(alias="Signature")] = None,
) -> Response:
    if expires is None or signature is None:
        return oss_error_xml(
            403,
            "AccessDenied",
            "Query string authentication requires the Signature, Expires and OSSAccessKeyId parameters",
        )
    if not video_signature_ok(emulator.settings.secret, name, expires, signature):
        return oss_error_xml(
            403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature."
        )
    if time.time() > expires:
        return oss_error_xml(403, "AccessDenied", "Request has expired.")
    path = emulator.settings.data_dir / "videos" / name
    if "/" in name or not name.endswith(".mp4") or not path.is_file():
        return oss_error_xml(404, "NoSuchKey", "The specified key does not exist.")
    return FileResponse(path, media_type="video/mp4", headers={"x-oss-request-id": oss_request_id()})
