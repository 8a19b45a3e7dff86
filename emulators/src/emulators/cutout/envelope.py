"""cutout.pro's answers: every one an envelope `{"code": 0, "data": ..., "msg": null, "time": <epoch ms>}`;
`code != 0` is an error with `msg`. cutout.pro documents no error codes nor HTTP statuses; these are the
emulator's choice."""

from __future__ import annotations

import time
from typing import Any

from fastapi.responses import JSONResponse

NO_KEY = 401  # HTTP 401: no APIKEY header, or a key no account has
BAD_FORMAT = 4001  # HTTP 400 from here on: not a PNG/JPEG/BMP/WEBP image, or its data is corrupt
TOO_LARGE = 4002  # 15 MB or more
BAD_RESOLUTION = 4003  # wider or taller than 4096 pixels
CANNOT_FETCH = 4004  # imageUrl (or voiceUrl) is no http(s) URL, or fetching it failed or timed out
BAD_PARAMETER = 4005  # a missing or invalid parameter: templateId, voiceUrl without template 0, ...
NO_SUCH_TASK = 4040  # HTTP 404: no task of this account has that id


class Refused(Exception):
    """A call cutout.pro refuses: `code` and `msg` go into the envelope, with HTTP `status`."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def envelope(data: Any, code: int = 0, msg: str | None = None, status: int = 200) -> JSONResponse:
    body = {"code": code, "data": data, "msg": msg, "time": int(time.time() * 1000)}
    return JSONResponse(body, status_code=status)


def refusal(refused: Refused) -> JSONResponse:
    return envelope(None, refused.code, refused.msg, refused.status)
