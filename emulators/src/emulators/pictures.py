"""Reading a caller's photo as both providers do: identified by its content (not its name or headers),
decoded in full, its `emulator-*` marks read, and whether it is one flat colour (plainly nobody in it).
Each provider applies its own documented limits between opening and decoding."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, UnidentifiedImageError

from emulators.marks import metadata_marks

# The formats both providers take, and the file extension each is kept under.
FORMATS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "WEBP": "webp"}
# Spread of grey levels below which a picture is one flat colour.
_FLAT_STDDEV = 2.0


class UnreadableImage(ValueError):
    """Not an image in one of the `FORMATS`, or its pixel data is cut off or corrupt."""


class ImageTooLarge(UnreadableImage):
    """So many pixels claimed that the image library refuses to open it (a decompression bomb)."""


@dataclass(frozen=True)
class Picture:
    data: bytes
    sha256: str
    width: int
    height: int
    extension: str
    # `emulator-detect` / `emulator-detect-code` / `emulator-task` found in the metadata text.
    marks: dict[str, str] = field(default_factory=dict)
    # One flat colour: plainly no person and no face (the rest needs a scripted answer).
    blank: bool = False


@contextmanager
def opened_image(data: bytes) -> Iterator[Image.Image]:
    """The image with its header read, pixels not yet decoded; `UnreadableImage` if it is none."""
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(str(exc)) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise UnreadableImage("not a readable image") from exc
    with image:
        if image.format not in FORMATS:
            raise UnreadableImage(f"unsupported image format {image.format}")
        yield image


def examine(image: Image.Image, data: bytes) -> Picture:
    """Decode the pixels (`UnreadableImage` when they are cut off or corrupt) and describe the picture."""
    try:
        image.load()
    except (OSError, SyntaxError) as exc:
        raise UnreadableImage("the image data is truncated or corrupt") from exc
    width, height = image.size
    grey = np.asarray(image.convert("L").reduce(max(1, min(width, height) // 64)), dtype=np.float32)
    return Picture(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
        extension=FORMATS[str(image.format)],
        marks=metadata_marks(image.info),
        blank=float(grey.std()) < _FLAT_STDDEV,
    )
