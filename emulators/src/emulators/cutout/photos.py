"""What cutout.pro makes of a submitted photo: its documented limits (PNG/JPG/JPEG/BMP/WEBP by content, at
most 4096x4096 pixels, under 15 MB), then whether it shows a face, which the emulator can only script.

The face: an answer registered for the photo's sha256 (`POST /admin/cutout/faces`); else its own metadata
(`emulator-detect: <reason>`, as `make_photo(detect_reason=...)` writes it) means none; else a picture of
one flat colour has none; else a real photo has one.
"""

from __future__ import annotations

from emulators.cutout.envelope import BAD_FORMAT, BAD_RESOLUTION, TOO_LARGE, Refused
from emulators.cutout.records import FaceOutcome
from emulators.pictures import ImageTooLarge, Picture, UnreadableImage, examine, opened_image

MAX_BYTES = 15 * 1024 * 1024
MAX_SIDE = 4096
NO_FACE = "No face was found in the image. Please upload an image with one clear, frontal face."
FORMATS_TEXT = "PNG, JPG, JPEG, BMP or WEBP"


def check_photo(data: bytes) -> Picture:
    """The photo, read; `Refused` when it breaks a documented limit."""
    if len(data) >= MAX_BYTES:
        raise Refused(TOO_LARGE, f"The image must be smaller than 15MB; it is {len(data) / 2**20:.1f}MB.")
    try:
        with opened_image(data) as image:
            width, height = image.size
            if max(width, height) > MAX_SIDE:
                raise Refused(
                    BAD_RESOLUTION, f"The image must be at most 4096x4096 pixels; it is {width}x{height}."
                )
            return examine(image, data)
    except ImageTooLarge as exc:
        raise Refused(BAD_RESOLUTION, "The image must be at most 4096x4096 pixels.") from exc
    except UnreadableImage as exc:
        raise Refused(BAD_FORMAT, f"The image cannot be used ({exc}); upload {FORMATS_TEXT}.") from exc


def missing_face(photo: Picture, scripted: FaceOutcome | None) -> str | None:
    """Why the photo has no face (its job will fail with this), or None when it has one."""
    if scripted is not None:
        return None if scripted.face else scripted.reason or NO_FACE
    marks = photo.marks
    if "emulator-detect" in marks or "emulator-detect-code" in marks:
        return marks.get("emulator-detect") or NO_FACE
    return NO_FACE if photo.blank else None
