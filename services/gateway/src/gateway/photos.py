"""Checks on an uploaded photo: it must be an image the provider reads, and not too large."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from gateway.errors import ApiError

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "BMP": "image/bmp", "WEBP": "image/webp"}


@dataclass(frozen=True)
class Photo:
    file_name: str
    content_type: str
    width: int
    height: int
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def check_photo(file_name: str | None, data: bytes, max_bytes: int) -> Photo:
    if not data:
        raise ApiError(400, "EmptyFile", "The uploaded file is empty.")
    if len(data) > max_bytes:
        raise ApiError(
            413,
            "FileTooLarge",
            f"The photo is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB.",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            fmt, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ApiError(
            415, "UnsupportedFileType", "The file is not a readable image (JPEG, PNG, BMP or WEBP)."
        ) from exc
    if fmt not in FORMATS:
        raise ApiError(
            415, "UnsupportedFileType", f"{fmt} images are not supported; use JPEG, PNG, BMP or WEBP."
        )
    name = (file_name or "photo").rsplit("/", 1)[-1][:200] or "photo"
    return Photo(file_name=name, content_type=FORMATS[fmt], width=width, height=height, data=data)
