"""Render the photo into a short H.264 MP4 that moves like the template (both providers' videos)."""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageFilter, ImageOps, ImageStat


class Motion(StrEnum):
    BOUNCE = "bounce"
    SWAY = "sway"
    ZOOM_PULSE = "zoom_pulse"
    TILT = "tilt"
    NOD = "nod"
    SHAKE = "shake"
    SMILE = "smile"


FPS = 15
_RESAMPLE = Image.Resampling.BILINEAR
_H264_ENCODERS = ("libx264", "libopenh264", "h264_videotoolbox", "h264_mf", "h264_nvenc", "h264_qsv")


@cache
def h264_encoder() -> str:
    """The best H.264 encoder the installed PyAV wheel carries."""
    for name in _H264_ENCODERS:
        if name in av.codecs_available:
            return name
    raise RuntimeError("this PyAV build has no H.264 encoder")


def render_video(
    photo_path: Path,
    out_path: Path,
    motion: Motion,
    seconds: float,
    size: tuple[int, int],
    keep_bg: bool,
    *,
    exact: bool = False,
) -> float:
    """Write the MP4 and return its duration in seconds: a whole number of frames at `FPS`, or with
    `exact` exactly `seconds` (to the millisecond), the frame rate nudged to fit."""
    with Image.open(photo_path) as opened:
        photo = ImageOps.exif_transpose(opened).convert("RGB")
    width, height = size
    background = _background(photo, size, keep_bg)
    figure = ImageOps.contain(photo, (int(width * 0.8), int(height * 0.8))).convert("RGBA")
    frame_count = max(2, round(seconds * FPS))
    rate = frame_count / Fraction(seconds).limit_denominator(1000) if exact else Fraction(FPS)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_suffix(".part.mp4")
    encoder = h264_encoder()
    with av.open(str(tmp_path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(encoder, rate=rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if encoder == "libx264":
            stream.options = {"preset": "veryfast", "crf": "26"}
        for index in range(frame_count):
            image = pose(background, figure, motion, index / frame_count)
            frame = av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24").reformat(format="yuv420p")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    tmp_path.replace(out_path)
    return round(float(frame_count / rate), 3)


def _background(photo: Image.Image, size: tuple[int, int], keep_bg: bool) -> Image.Image:
    """The photo's own background (blurred, stretched to fill) or a plain stand-in in its mean colour."""
    if keep_bg:
        # Stretched rather than cropped, so the frame keeps the photo's overall colour.
        return photo.resize(size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(12))
    mean = tuple(round(channel) for channel in ImageStat.Stat(photo).mean[:3])
    return Image.new("RGB", size, mean)


Move = Callable[[Image.Image, float, tuple[int, int]], tuple[Image.Image, float, float]]


def _bounce(figure: Image.Image, t: float, size: tuple[int, int]) -> tuple[Image.Image, float, float]:
    return figure, 0.0, -abs(math.sin(2 * math.pi * t * 2)) * size[1] * 0.06


def _sway(figure: Image.Image, t: float, size: tuple[int, int]) -> tuple[Image.Image, float, float]:
    wave = math.sin(2 * math.pi * t)
    return figure.rotate(-4 * wave, _RESAMPLE, expand=True), wave * size[0] * 0.08, 0.0


def _zoom_pulse(figure: Image.Image, t: float, size: tuple[int, int]) -> tuple[Image.Image, float, float]:
    return _scaled(figure, 1 + 0.1 * math.sin(2 * math.pi * t * 2)), 0.0, 0.0


def _tilt(figure: Image.Image, t: float, size: tuple[int, int]) -> tuple[Image.Image, float, float]:
    return figure.rotate(8 * math.sin(2 * math.pi * t * 2), _RESAMPLE, expand=True), 0.0, 0.0


def _nod(figure: Image.Image, t: float, size: tuple[int, int]) -> tuple[Image.Image, float, float]:
    """Two nods: the figure dips (shorter, its foot fixed) and comes back up."""
    dip = max(0.0, math.sin(2 * math.pi * t * 2))
    height = round(figure.height * (1 - 0.08 * dip))
    return figure.resize((figure.width, height), _RESAMPLE), 0.0, (figure.height - height) / 2


def _shake(figure: Image.Image, t: float, size: tuple[int, int]) -> tuple[Image.Image, float, float]:
    """Three quick turns left and right, as a head shakes "no"."""
    turn = math.sin(2 * math.pi * t * 3)
    width = round(figure.width * (1 - 0.06 * abs(turn)))
    return figure.resize((width, figure.height), _RESAMPLE), turn * size[0] * 0.04, 0.0


def _smile(figure: Image.Image, t: float, size: tuple[int, int]) -> tuple[Image.Image, float, float]:
    """One slow zoom in on the face (30% down the figure, which stays in place) and back out."""
    scale = 1 + 0.2 * math.sin(math.pi * t) ** 2
    return _scaled(figure, scale), 0.0, 0.2 * figure.height * (scale - 1)


def _scaled(figure: Image.Image, scale: float) -> Image.Image:
    return figure.resize((round(figure.width * scale), round(figure.height * scale)), _RESAMPLE)


_MOVES: dict[Motion, Move] = {
    Motion.BOUNCE: _bounce,
    Motion.SWAY: _sway,
    Motion.ZOOM_PULSE: _zoom_pulse,
    Motion.TILT: _tilt,
    Motion.NOD: _nod,
    Motion.SHAKE: _shake,
    Motion.SMILE: _smile,
}


def pose(background: Image.Image, figure: Image.Image, motion: Motion, t: float) -> Image.Image:
    """One frame: the figure moved for time t in [0, 1) of the loop, pasted on the background."""
    moved, dx, dy = _MOVES[motion](figure, t, background.size)
    frame = background.copy()
    left = round((background.width - moved.width) / 2 + dx)
    top = round((background.height - moved.height) / 2 + dy)
    frame.paste(moved, (left, top), moved)
    return frame
