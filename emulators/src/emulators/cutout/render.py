"""A cutout.pro result: the photo moving like its template for exactly the template's clip length (what
cutout.pro bills), as an H.264 MP4 and, when asked, an animated GIF of the same length."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path

import av
from PIL import Image

from emulators.render_once import copy_of_render
from emulators.video import Motion, render_video

# Each template's clip length in seconds, and the motion that stands for its expression.
TEMPLATES: dict[int, tuple[float, Motion]] = {
    0: (3.13, Motion.NOD),
    1: (7.13, Motion.SWAY),
    2: (2.13, Motion.SMILE),
    3: (6.75, Motion.TILT),
    4: (4.38, Motion.SHAKE),
    5: (3.75, Motion.BOUNCE),
}
SIDE, HD_SIDE = 480, 720  # square frames; `isHd=true` makes them larger (the emulator's choice)
GIF_SIDE = 240
GIF_EVERY = 3  # of the video's frames: about 5 a second


def clip_seconds(template: int) -> float:
    return TEMPLATES[template][0]


async def render_result(
    photo: Path, video: Path, template: int, *, hd: bool, gif: Path | None, once: bool
) -> float:
    """Write the MP4 (and the GIF) of `photo` in a thread; the video's length. With `once`, every job of the
    same template and size gets a copy of one render (benchmarks)."""
    seconds, motion = TEMPLATES[template]
    side = HD_SIDE if hd else SIDE
    render = partial(
        render_video, photo, motion=motion, seconds=seconds, size=(side, side), keep_bg=True, exact=True
    )
    if once:
        shared = video.with_name(f"shared-{template}-{side}.mp4")
        duration = await copy_of_render(shared, video, render)
        if gif is not None:
            await copy_of_render(shared.with_suffix(".gif"), gif, partial(write_gif, shared, seconds=seconds))
        return duration
    return await asyncio.to_thread(_render_both, render, video, gif, seconds)


def _render_both(render: Callable[[Path], float], video: Path, gif: Path | None, seconds: float) -> float:
    duration = render(video)
    if gif is not None:
        write_gif(video, gif, seconds=seconds)
    return duration


def write_gif(video: Path, out: Path, *, seconds: float) -> float:
    """An animated GIF of every `GIF_EVERY`th frame of the video, lasting `seconds` (to the 1/100 s)."""
    with av.open(str(video)) as container:
        frames: list[Image.Image] = [
            frame.to_image().resize((GIF_SIDE, GIF_SIDE))  # type: ignore[no-untyped-call]
            for index, frame in enumerate(container.decode(video=0))
            if index % GIF_EVERY == 0
        ]
    # GIF frame delays are whole hundredths of a second: spread the clip's hundredths over the frames.
    total, count = round(seconds * 100), len(frames)
    delays = [((i + 1) * total // count - i * total // count) * 10 for i in range(count)]
    tmp = out.with_suffix(".part.gif")
    frames[0].save(tmp, "GIF", save_all=True, append_images=frames[1:], duration=delays, loop=0)
    tmp.replace(out)
    return seconds
