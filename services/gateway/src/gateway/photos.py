"""Checks on an uploaded photo: an image the provider reads, of a size it accepts, whose pixels decode.

`check_photo` is synchronous CPU work: run it in a thread. Dimensions are checked from the header before
any pixel is decoded, so a small file that claims a huge image costs nothing.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from common.providers.photo_limits import PhotoLimits
from PIL import Image, UnidentifiedImageError

from gateway.errors import ApiError

MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "BMP": "image/bmp", "WEBP": "image/webp"}
ALIASES = {"MPO": "JPEG"}  # phones' multi-picture JPEGs are plain JPEGs to any reader
MAX_NAME = 200


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


def _refuse(status: int, code: str, detail: str) -> ApiError:
    return ApiError(status, code, detail, field="file")


def _sides(limits: PhotoLimits) -> str:
    return f"each side must be {limits.min_side}–{limits.max_side} px"  # noqa: RUF001


def check_size(width: int, height: int, limits: PhotoLimits) -> None:
    size = f"The photo is {width}×{height} px"  # noqa: RUF001
    if max(width, height) > limits.max_side:
        raise _refuse(400, "ImageTooLarge", f"{size}; {_sides(limits)}.")
    if min(width, height) < limits.min_side:
        raise _refuse(400, "ImageTooSmall", f"{size}; {_sides(limits)}.")
    aspect = height / width
    if not limits.min_aspect <= aspect <= limits.max_aspect:
        raise _refuse(
            400,
            "ImageAspectRatio",
            f"{size} (height/width {aspect:.2f}); height/width must be "
            f"{limits.min_aspect:g}–{limits.max_aspect:g}.",  # noqa: RUF001
        )


def check_photo(file_name: str | None, data: bytes, limits: PhotoLimits) -> Photo:
    """The photo if the provider can take it, else an ApiError saying what to change."""
    if not data:
        raise _refuse(400, "EmptyFile", "The uploaded file is empty.")
    if len(data) > limits.max_bytes:
        raise _refuse(
            413,
            "FileTooLarge",
            f"The photo is {len(data) / 2**20:.1f} MB; the limit is {limits.max_bytes / 2**20:g} MB.",
        )
    *most, last = sorted(limits.formats)
    names = f"{', '.join(most)} or {last}" if most else last
    too_large = _refuse(400, "ImageTooLarge", f"The photo is far too large; {_sides(limits)}.")
    with warnings.catch_warnings():
        # Pillow warns on (and refuses) huge headers itself; our own limits are lower and decide.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                fmt = ALIASES.get(image.format or "", image.format or "")
                width, height = image.size
                if fmt not in limits.formats or fmt not in MIME_TYPES:
                    raise _refuse(415, "UnsupportedFileType", f"The file is not a {names} image.")
                check_size(width, height, limits)
                image.verify()  # chunk checksums (PNG); decodes nothing
            with Image.open(io.BytesIO(data)) as image:
                # A JPEG decodes at 1/8 scale: every byte of its data is still read and checked, at a
                # fraction of the work. Other formats decode every pixel of the first frame.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()  # truncated or corrupt data is an error
        except ApiError:
            raise
        except Image.DecompressionBombError as exc:
            raise too_large from exc
        except UnidentifiedImageError as exc:
            raise _refuse(415, "UnsupportedFileType", f"The file is not a {names} image.") from exc
        except Exception as exc:  # whatever a decoder raises on bad data
            raise _refuse(400, "CorruptImage", "The photo's data does not decode; export it again.") from exc
    return Photo(clean_file_name(file_name), MIME_TYPES[fmt], width, height, data)


def clean_file_name(file_name: str | None) -> str:
    """The last path component, NFC, without control characters or leading dots, at most 200 chars."""
    name = re.split(r"[/\\]", file_name or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    name = re.sub(r"^[\s.]+", "", name).rstrip()
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= 16:
            name = f"{stem[: MAX_NAME - len(ext) - 1].rstrip()}.{ext}"
        else:
            name = name[:MAX_NAME].rstrip()
    return name or "photo"
