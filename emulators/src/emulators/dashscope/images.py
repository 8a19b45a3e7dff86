"""Check an input photo against the detection model's limits and read its `emulator-*` marks."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, UnidentifiedImageError

from emulators.errors import ProviderError, invalid_url
from emulators.marks import metadata_marks

MAX_IMAGE_BYTES = 5 * 1024 * 1024
_FORMATS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "WEBP": "webp"}
# Spread of grey levels below which a picture is one flat colour: no person in it.
_FLAT_STDDEV = 2.0


@dataclass(frozen=True)
class Photo:
    data: bytes
    sha256: str
    width: int
    height: int
    extension: str
    # `emulator-detect` / `emulator-detect-code` / `emulator-task` found in the metadata text.
    marks: dict[str, str] = field(default_factory=dict)
    # One flat colour: plainly no person (the rest needs a scripted answer).
    blank: bool = False


def inspect_photo(data: bytes) -> Photo:
    """Apply the detection model's documented limits; raise the provider's 400 on the first miss."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError) as exc:
        raise invalid_url("not a readable image") from exc
    with image:
        if image.format not in _FORMATS:
            raise invalid_url(f"unsupported image format {image.format}")
        if len(data) >= MAX_IMAGE_BYTES:
            raise ProviderError(
                400, "InvalidFile.Size", "The image size is invalid, please make sure it is smaller than 5MB."
            )
        width, height = image.size
        if max(width, height) >= 4096 or min(width, height) <= 224:
            raise ProviderError(
                400,
                "InvalidFile.Resolution",
                "The image resolution is invalid, please make sure that the largest length of image is "
                "smaller than 4096, and the smallest length of image is larger than 224.",
            )
        if not 0.5 <= height / width <= 2.0:
            raise ProviderError(
                400,
                "InvalidFile.AspectRatio",
                "The aspect ratio of the image is invalid, please make sure that the ratio of height to "
                "width is between 0.5 and 2.0.",
            )
        try:
            image.load()
        except (OSError, SyntaxError) as exc:
            raise invalid_url("the image data is truncated or corrupt") from exc
        marks = metadata_marks(image.info)
        extension = _FORMATS[image.format]
        grey = np.asarray(image.convert("L").reduce(max(1, min(width, height) // 64)), dtype=np.float32)
    digest = hashlib.sha256(data).hexdigest()
    return Photo(data, digest, width, height, extension, marks, float(grey.std()) < _FLAT_STDDEV)
