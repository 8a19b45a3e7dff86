"""Photos for the tests, drawn with Pillow: a figure on a plain background."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

BACKGROUND = (40, 120, 200)


def person_photo(
    size: tuple[int, int] = (540, 960),
    detect_verdict: str | None = None,
    background: tuple[int, int, int] = BACKGROUND,
    task_fate: str | None = None,
) -> bytes:
    """A PNG of a stick figure; `detect_verdict` asks the emulator's detector to reject it, and
    `task_fate` (e.g. "never", "fail InvalidFile.Content") scripts what its video job does."""
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w * 0.4, h * 0.1, w * 0.6, h * 0.22), fill=(240, 200, 170))
    draw.rectangle((w * 0.38, h * 0.22, w * 0.62, h * 0.55), fill=(220, 40, 40))
    draw.rectangle((w * 0.40, h * 0.55, w * 0.48, h * 0.9), fill=(30, 30, 60))
    draw.rectangle((w * 0.52, h * 0.55, w * 0.60, h * 0.9), fill=(30, 30, 60))
    info = PngInfo()
    if detect_verdict:
        info.add_text("emulator-detect", detect_verdict)
    if task_fate:
        info.add_text("emulator-task", task_fate)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def mean_colour(photo: bytes) -> tuple[float, float, float]:
    with Image.open(io.BytesIO(photo)) as image:
        small = image.convert("RGB").resize((1, 1), Image.Resampling.BOX)
        r, g, b = small.getpixel((0, 0))  # type: ignore[misc]
        return float(r), float(g), float(b)
