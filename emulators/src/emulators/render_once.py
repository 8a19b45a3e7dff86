"""`EMULATOR_RENDER=once` (benchmarks, where a provider must answer at once and cost no CPU): each kind of
result is rendered once per process and copied to every later task that asks for that kind."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

_RENDERED: dict[Path, float] = {}  # a shared render, and its video's duration


async def copy_of_render(shared: Path, out: Path, render: Callable[[Path], float]) -> float:
    """Copy `shared` to `out`, first writing it with `render(shared)` unless it is there already (an admin
    reset removes the files); the video's duration. Blocking work runs in a thread."""
    return await asyncio.to_thread(_copy, shared, out, render)


def _copy(shared: Path, out: Path, render: Callable[[Path], float]) -> float:
    if shared not in _RENDERED or not shared.exists():
        _RENDERED[shared] = render(shared)
    shutil.copyfile(shared, out)
    return _RENDERED[shared]
