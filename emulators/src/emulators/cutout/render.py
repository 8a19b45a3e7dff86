"""A cutout.pro result: the photo moving like its template for exactly the template's clip length, as an
H.264 MP4 (the DashScope emulator's renderer) and, when asked, an animated GIF of the same frames."""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image

from emulators.video import Motion, render_video

SIZE = (480, 480)
# Each template's clip length (what cutout.pro bills) and the motion that stands for its expression.
TEMPLATES: dict[int, tuple[float, Motion]] = {
    0: (3.13, Motion.TILT),
    1: (7.13, Motion.SWAY),
    2: (2.13, Motion.ZOOM_PULSE),
    3: (6.75, Motion.BOUNCE),
    4: (4.38, Motion.TILT),
    5: (3.75, Motion.ZOOM_PULSE),
}
GIF_SIDE = 240
GIF_EVERY = 3  # of the video's frames: 5 frames per second


def render_clip(photo: Path, folder: Path, task_id: int, template: int, gif: bool) -> None:
    seconds, motion = TEMPLATES[template]
    video = folder / f"{task_id}.mp4"
    render_video(photo, video, motion, seconds, SIZE, keep_bg=True)
    if gif:
        _gif_of(video, folder / f"{task_id}.gif")


def _gif_of(video: Path, out: Path) -> None:
    with av.open(str(video)) as container:
        frames = [
            frame.to_image().resize((GIF_SIDE, GIF_SIDE))  # type: ignore[no-untyped-call]
            for index, frame in enumerate(container.decode(video=0))
            if index % GIF_EVERY == 0
        ]
    first: Image.Image = frames[0]
    first.save(out, "GIF", save_all=True, append_images=frames[1:], duration=1000 // 5, loop=0)
