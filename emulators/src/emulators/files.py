"""Blocking file helpers; callers on the event loop run them with `asyncio.to_thread`."""

from __future__ import annotations

import shutil
from pathlib import Path


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def empty_dir(path: Path) -> None:
    """Remove everything inside `path`, keeping the directory itself."""
    if not path.exists():
        return
    for child in path.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def delete_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
