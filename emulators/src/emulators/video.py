"""Render the photo into a short H.264 MP4 that moves like the template."""

from __future__ import annotations

import math
from enum import StrEnum
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
    photo_path: Path, out_path: Path, motion: Motion, seconds: float, size: tuple[int, int], keep_bg: bool
) -> float:
    """Write the MP4 and return its duration in seconds."""
    with Image.open(photo_path) as opened:
        photo = ImageOps.exif_transpose(opened).convert("RGB")
    width, height = size
    background = _background(photo, size, keep_bg)
    figure = ImageOps.contain(photo, (int(width * 0.8), int(height * 0.8))).convert("RGBA")
    frame_count = max(2, round(seconds * FPS))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_suffix(".part.mp4")
    encoder = h264_encoder()
    with av.open(str(tmp_path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(encoder, rate=FPS)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if encoder == "libx264":
            stream.options = {"preset": "veryfast", "crf": "26"}
        for index in range(frame_count):
            image = _pose(background, figure, motion, index / frame_count)
            frame = av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24").reformat(format="yuv420p")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    tmp_path.replace(out_path)
    return round(frame_count / FPS, 3)


def _background(photo: Image.Image, size: tuple[int, int], keep_bg: bool) -> Image.Image:
    """The photo's own background (blurred, stretched to fill) or a plain stand-in in its mean colour."""
    if keep_bg:
        # Stretched rather than cropped, so the frame keeps the photo's overall colour.
        return photo.resize(size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(12))
    mean = tuple(round(channel) for channel in ImageStat.Stat(photo).mean[:3])
    return Image.new("RGB", size, mean)


def _pose(background: Image.Image, figure: Image.Image, motion: Motion, t: float) -> Image.Image:
    """One frame: the figure moved for time t in [0, 1) of the loop, pasted on the background."""
    wave = math.sin(2 * math.pi * t)
    dx, dy = 0.0, 0.0
    if motion is Motion.BOUNCE:
        dy = -abs(math.sin(2 * math.pi * t * 2)) * background.height * 0.06
        moved = figure
    elif motion is Motion.SWAY:
        dx = wave * background.width * 0.08
        moved = figure.rotate(-4 * wave, _RESAMPLE, expand=True)
    elif motion is Motion.ZOOM_PULSE:
        scale = 1 + 0.1 * math.sin(2 * math.pi * t * 2)
        moved = figure.resize((round(figure.width * scale), round(figure.height * scale)), _RESAMPLE)
    else:
        moved = figure.rotate(8 * math.sin(2 * math.pi * t * 2), _RESAMPLE, expand=True)
    frame = background.copy()
    left = round((background.width - moved.width) / 2 + dx)
    top = round((background.height - moved.height) / 2 + dy)
    frame.paste(moved, (left, top), moved)
    return frame
