"""Result files served at signed, expiring links in the shape of OSS presigned URLs (both providers'
results, linked by `signing.signed_link`): `<route>/<name>?Expires=<epoch>&OSSAccessKeyId=...&Signature=...`,
with OSS's XML errors for a missing, wrong or expired signature and for a file that is not there."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from emulators.deps import EmulatorDep
from emulators.errors import oss_error_xml, oss_request_id
from emulators.settings import EmulatorSettings
from emulators.signing import video_signature_ok


def add_signed_files(
    router: APIRouter, route: str, folder: Callable[[EmulatorSettings], Path], media_types: dict[str, str]
) -> None:
    """Serve `GET` / `HEAD <route>/{name}` from `folder(settings)`, the suffixes in `media_types` only."""

    @router.api_route(f"{route}/{{name}}", methods=["GET", "HEAD"], include_in_schema=False)
    async def get_file(
        name: str,
        emulator: EmulatorDep,
        expires: Annotated[int | None, Query(alias="Expires")] = None,
        signature: Annotated[str | None, Query(alias="Signature")] = None,
    ) -> Response:
        settings = emulator.settings
        return serve_signed(settings.secret, folder(settings), name, expires, signature, media_types)


def serve_signed(
    secret: str,
    folder: Path,
    name: str,
    expires: int | None,
    signature: str | None,
    media_types: dict[str, str],
) -> Response:
    """The file `folder/name` if the link is signed and unexpired and its suffix is one of `media_types`."""
    if expires is None or signature is None:
        return oss_error_xml(
            403,
            "AccessDenied",
            "Query string authentication requires the Signature, Expires and OSSAccessKeyId parameters",
        )
    if not video_signature_ok(secret, name, expires, signature):
        return oss_error_xml(
            403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature."
        )
    if time.time() > expires:
        return oss_error_xml(403, "AccessDenied", "Request has expired.")
    path, suffix = folder / name, PurePosixPath(name).suffix
    if "/" in name or suffix not in media_types or not path.is_file():
        return oss_error_xml(404, "NoSuchKey", "The specified key does not exist.")
    return FileResponse(path, media_type=media_types[suffix], headers={"x-oss-request-id": oss_request_id()})
