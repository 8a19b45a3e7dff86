"""Test inputs: a photo of a "person" and a short motion video, optionally carrying emulator marks."""

from __future__ import annotations

import io

import av
import numpy as np
from PIL import Image, ImageDraw, PngImagePlugin

from emulators.video import h264_encoder

BODY = (200, 40, 60)
SKIN = (230, 180, 140)


def make_photo(
    width: int = 512,
    height: int = 900,
    *,
    background: tuple[int, int, int] = (40, 120, 200),
    image_format: str = "PNG",
    detect_reason: str | None = None,
    detect_code: str | None = None,
    task_mark: str | None = None,
) -> bytes:
    """A plain "person" (head and body) on a coloured background.

    `detect_reason` / `detect_code` are written as `emulator-detect*` metadata (PNG text chunks or a
    JPEG comment), which makes the emulator's person check fail; `task_mark` as `emulator-task`
    (e.g. "fail InvalidFile.Content", "never") decides how a synthesis task of this photo ends.
    """
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    cx, head = width // 2, min(width, height) // 7
    draw.ellipse((cx - head, height // 10, cx + head, height // 10 + 2 * head), fill=SKIN)
    draw.rectangle((cx - 2 * head, height // 10 + 2 * head, cx + 2 * head, height * 9 // 10), fill=BODY)
    lines = [f"emulator-detect: {detect_reason}"] if detect_reason is not None else []
    lines += [f"emulator-detect-code: {detect_code}"] if detect_code is not None else []
    lines += [f"emulator-task: {task_mark}"] if task_mark is not None else []
    out = io.BytesIO()
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        for line in lines:
            key, _, value = line.partition(": ")
            info.add_text(key, value)
        image.save(out, "PNG", pnginfo=info)
    elif image_format == "JPEG":
        image.save(out, "JPEG", quality=90, comment="\n".join(lines).encode())
    else:
        image.save(out, image_format)
    return out.getvalue()


def make_clip(
    seconds: float = 2.0, fps: int = 24, size: tuple[int, int] = (256, 384), task_mark: str | None = None
) -> bytes:
    """A small H.264 MP4 (a moving gradient) for template generation; `task_mark` as in make_photo."""
    width, height = size
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        if task_mark is not None:
            container.metadata["comment"] = f"emulator-task: {task_mark}"
        stream = container.add_stream(h264_encoder(), rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(round(seconds * fps)):
            level = np.uint8(index * 7 % 256)
            frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), level), format="rgb24")
            container.mux(stream.encode(frame.reformat(format="yuv420p")))
        container.mux(stream.encode(None))
    return out.getvalue()
