"""Check a downloaded video before the product vouches for it: an MP4 whose frames decode, of a
plausible length; and make its poster, a JPEG of a frame near the start."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av

POSTER_AT_SECONDS = 0.5
POSTER_QUALITY = 85
MP4_FORMATS = frozenset({"mov", "mp4", "m4a", "3gp", "3g2", "mj2"})  # FFmpeg's demuxer for MP4 files


class InvalidVideo(Exception):
    """The file is not a playable MP4 video (or not a plausible one); the message says why."""


@dataclass(frozen=True)
class Inspected:
    duration_seconds: float
    width: int
    height: int
    frames: int
    poster_jpeg: bytes


def inspect_video(path: Path, max_seconds: float) -> Inspected:
    """Decode every frame (CPU-bound: call it in a thread); raises InvalidVideo."""
    try:
        with av.open(str(path)) as container:
            if not MP4_FORMATS & set(container.format.name.split(",")):
                raise InvalidVideo(f"not an MP4 file ({container.format.name})")
            if not container.streams.video:
                raise InvalidVideo("the file has no video track")
            stream = container.streams.video[0]
            frames, last_time = 0, 0.0
            first: bytes | None = None
            poster: bytes | None = None
            for frame in container.decode(stream):
                frames += 1
                last_time = float(frame.time or 0.0)
                if last_time > max_seconds:
                    raise InvalidVideo(f"longer than {max_seconds:g} seconds")
                if first is None:
                    first = _jpeg(frame)
                if poster is None and last_time >= POSTER_AT_SECONDS:
                    poster = _jpeg(frame)
            if first is None:
                raise InvalidVideo("no frame of the video could be decoded")
            duration = _duration(container, stream, last_time)
            return Inspected(duration, stream.width, stream.height, frames, poster or first)
    except av.FFmpegError as exc:
        raise InvalidVideo(f"the video does not decode: {exc}") from exc


def _duration(container: av.container.InputContainer, stream: av.VideoStream, last_time: float) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return round(float(stream.duration * stream.time_base), 3)
    if container.duration is not None:
        return round(container.duration / av.time_base, 3)
    return round(last_time, 3)


def _jpeg(frame: av.VideoFrame) -> bytes:
    out = io.BytesIO()
    frame.to_image().save(  # type: ignore[no-untyped-call]
        out, format="JPEG", quality=POSTER_QUALITY
    )
    return out.getvalue()
