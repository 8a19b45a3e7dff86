"""What cutout.pro does with a submitted photo before its job: fetch it, apply the documented limits, and
decide (as the emulator can only script it) whether it shows a face."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from emulators.marks import metadata_marks

FORMATS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "WEBP": "webp"}
MAX_BYTES = 15 * 1024 * 1024
MAX_SIDE = 4096
NO_FACE = "No face was found in the image. Please upload an image with one clear, frontal face."
_FLAT_STDDEV = 2.0


class Refused(Exception):
    """The submit is refused: `code` and `msg` go into the envelope."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def check_photo(data: bytes) -> tuple[str, str | None]:
    """The photo's file extension, and why it has no face (None: it has one). Raises `Refused`."""
    if len(data) >= MAX_BYTES:
        raise Refused(4002, "The image must be smaller than 15MB.")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise Refused(4001, "The image cannot be read; use PNG, JPG, JPEG, BMP or WEBP.") from exc
    with image:
        if image.format not in FORMATS:
            raise Refused(4001, f"Unsupported image format {image.format}; use PNG, JPG, JPEG, BMP or WEBP.")
        if max(image.size) > MAX_SIDE:
            raise Refused(4003, "The image must be at most 4096x4096 pixels.")
        marks = metadata_marks(image.info)
        grey = np.asarray(image.convert("L").reduce(max(1, min(image.size) // 64)), dtype=np.float32)
        extension = FORMATS[image.format]
    if "emulator-detect" in marks or "emulator-detect-code" in marks:
        return extension, marks.get("emulator-detect") or NO_FACE
    return extension, NO_FACE if float(grey.std()) < _FLAT_STDDEV else None
