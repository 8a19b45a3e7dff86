"""The media store on the local disk: one file per key under a root directory, served by the gateway.

Writes are atomic: the bytes go to a hidden temporary file next to the target, are flushed to disk,
then renamed over it, so a reader sees the old object or the new one, never a part. Hidden names
cannot clash with a key (no key segment starts with a dot). All file I/O runs off the event loop.
The content type is not kept: the gateway derives it from the key's extension. A disk error (full,
read-only, I/O error) is `MediaUnavailable`, like an unreachable S3.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from common.media.store import MediaNotFound, MediaUnavailable, validate_key

COPY_CHUNK_BYTES = 1024 * 1024


class LocalMediaStore:
    """`MediaStore` on a directory (created when first written to)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))

    def path(self, key: str) -> Path:
        """The file that holds `key` (whether or not it exists)."""
        return self.root / validate_key(key)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await asyncio.to_thread(_put_file, self.path(key), path)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(_put_bytes, self.path(key), data)

    async def get_bytes(self, key: str) -> bytes:
        target = self.path(key)
        try:
            return await asyncio.to_thread(_read, target)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MediaNotFound(key) from None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(_delete, self.path(key))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    async def locate(self, key: str) -> str | Path:
        target = self.path(key)
        if not await asyncio.to_thread(target.is_file):
            raise MediaNotFound(key)
        return target

    async def close(self) -> None:
        return None


@contextmanager
def _disk_errors() -> Iterator[None]:
    try:
        yield
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise
    except OSError as exc:
        raise MediaUnavailable(f"media directory: {exc}") from exc


def _put_file(target: Path, source: Path) -> None:
    with source.open("rb") as stream:  # a missing source is the caller's error, raised as is
        _write_atomically(target, lambda out: shutil.copyfileobj(stream, out, COPY_CHUNK_BYTES))


def _put_bytes(target: Path, data: bytes) -> None:
    _write_atomically(target, lambda out: out.write(data))


def _read(target: Path) -> bytes:
    with _disk_errors():
        return target.read_bytes()


def _delete(target: Path) -> None:
    try:
        with _disk_errors():
            target.unlink(missing_ok=True)
    except (IsADirectoryError, NotADirectoryError):
        pass  # the key names a folder of other keys, or a path under a file: no object either way


def _write_atomically(target: Path, fill: Callable[[BinaryIO], object]) -> None:
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    with _disk_errors():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
