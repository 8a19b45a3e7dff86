"""Check a motion video against the template model's documented limits.

The limits are documented (mp4/avi/mov, up to 200 MB, 2-60 s, at least 24 fps, sides 200-2048 px);
the error codes for them are not, so these `InvalidFile.*` names are the emulator's choice.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import av

from emulators.errors import ProviderError

MAX_VIDEO_BYTES = 200 * 1024 * 1024
_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "avi": "avi"}
_MARK_KEYS = ("emulator-task",)


@dataclass(frozen=True)
class Clip:
    data: bytes
    sha256: str
    seconds: float
    fps: float
    width: int
    height: int
    extension: str
    marks: dict[str, str] = field(default_factory=dict)


def _invalid(code: str, message: str) -> ProviderError:
    return ProviderError(400, code, message)


def inspect_clip(data: bytes) -> Clip:
    if len(data) > MAX_VIDEO_BYTES:
        raise _invalid("InvalidFile.Size", "The video size is invalid, it must not exceed 200MB.")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError) as exc:
        raise _invalid("InvalidFile.Format", "The video cannot be read; use mp4, avi or mov.") from exc
    with container:
        extension = _CONTAINERS.get(container.format.name)
        if extension is None or not container.streams.video:
            raise _invalid("InvalidFile.Format", "The video format is invalid; use mp4, avi or mov.")
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        seconds = container.duration / 1_000_000 if container.duration else 0.0
        width, height = stream.codec_context.width, stream.codec_context.height
        marks = _marks(dict(container.metadata))
    if not 2 <= seconds <= 60:
        raise _invalid("InvalidFile.Duration", "The video duration is invalid, it must be 2 to 60 seconds.")
    if fps < 24:
        raise _invalid("InvalidFile.FPS", "The video frame rate is invalid, it must be at least 24 fps.")
    if not (min(width, height) >= 200 and max(width, height) <= 2048):
        raise _invalid(
            "InvalidFile.Resolution", "The video resolution is invalid, each side must be 200 to 2048 pixels."
        )
    digest = hashlib.sha256(data).hexdigest()
    return Clip(data, digest, round(seconds, 3), fps, width, height, extension, marks)


def _marks(metadata: dict[str, str]) -> dict[str, str]:
    """`emulator-task` as a tag of its own or as a line of the `comment` tag."""
    marks = {key: value.strip() for key, value in metadata.items() if key in _MARK_KEYS}
    for line in metadata.get("comment", "").splitlines():
        name, colon, rest = line.partition(":")
        if colon and name.strip() in _MARK_KEYS:
            marks[name.strip()] = rest.strip()
    return marks
