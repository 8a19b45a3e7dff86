"""GET /media/{key}: the product's videos, posters and photos, by the signed links the API hands out.

A link (`common.media.links`) carries its expiry and an HMAC of key and expiry, so it needs no API key:
it can sit in a `<video src>` or be shared, and stops working when the video's retention ends. A wrong
signature is 403 whatever else is wrong; a genuine but expired link is 410. From the local store the
gateway sends the file itself (with Range support, for seeking); from S3 it redirects to a short-lived
presigned URL, so the bytes never pass through the gateway.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import time
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from common.media import MediaNotFound, MediaUnavailable
from common.media.links import expired, signature_matches
from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, RedirectResponse, Response

from gateway.deps import MediaDep, SettingsDep
from gateway.errors import ApiError
from gateway.openapi import problems

router = APIRouter()
RETRY_AFTER_SECONDS = 5
NEVER_EXPIRING_MAX_AGE = 24 * 3600  # a link without expiry: browsers still ask again daily
EXPIRES = re.compile(r"[0-9]{1,12}")
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
}
OTHER = "application/octet-stream"
BINARY = {"schema": {"type": "string", "format": "binary"}}
MEDIA_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file. Send `Range` to read part of it (206); `Accept-Ranges: bytes`.",
        "content": {media_type: BINARY for media_type in sorted({*CONTENT_TYPES.values(), OTHER})},
    },
    206: {"description": "The requested byte range of the file (`Content-Range`)."},
    307: {
        "description": "Object storage: a redirect to a presigned URL valid a few minutes.",
        "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
    },
    **problems("MediaLinkInvalid", "MediaNotFound", "MediaExpired", "MediaUnavailable"),
}
MEDIA_DOC[503]["headers"] = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
}


@router.get(
    "/media/{key:path}",
    operation_id="getMedia",
    summary="A video, poster or photo, by the signed link the API gave",
    response_class=Response,
    responses=MEDIA_DOC,
    openapi_extra={"security": []},  # the link's signature is its credential
)
async def get_media(
    key: str,
    store: MediaDep,
    settings: SettingsDep,
    expires: Annotated[str | None, Query(description="Unix time the link expires; 0: never.")] = None,
    signature: Annotated[str | None, Query(description="HMAC-SHA256 of key and expiry, hex.")] = None,
) -> Response:
    """The media object a `videoUrl` / `posterUrl` names, while its link is valid."""
    signing_key = settings.media_signing_key.get_secret_value()
    if (
        expires is None
        or signature is None
        or not EXPIRES.fullmatch(expires)
        or not signature_matches(signing_key, key, int(expires), signature)
    ):
        raise ApiError(403, "MediaLinkInvalid", "This media link is not valid; use it exactly as given.")
    now = time.time()
    if expired(int(expires), now):
        raise ApiError(410, "MediaExpired", "The video was deleted after its retention period.")
    try:
        where = await store.locate(key)
        # Here, so that a file deleted in between is a 404 too (FileResponse would fail on it).
        stat = await asyncio.to_thread(os.stat, where) if isinstance(where, Path) else None
    except (MediaNotFound, ValueError, FileNotFoundError):
        raise ApiError(404, "MediaNotFound", "Nothing is stored under this link (any more).") from None
    except MediaUnavailable:
        raise ApiError(
            503,
            "MediaUnavailable",
            "The media storage cannot be reached right now; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    if isinstance(where, str):
        return RedirectResponse(where, status_code=307, headers={"Cache-Control": "no-store"})
    max_age = math.floor(int(expires) - now) if int(expires) else NEVER_EXPIRING_MAX_AGE
    return FileResponse(
        where,
        media_type=CONTENT_TYPES.get(PurePosixPath(key).suffix.lower(), OTHER),
        stat_result=stat,
        headers={"Cache-Control": f"private, max-age={max_age}", "X-Content-Type-Options": "nosniff"},
    )
