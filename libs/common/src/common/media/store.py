"""The media store port: where the product keeps the files that last (videos, posters, photos).

Two adapters implement it: `LocalMediaStore` (files under a directory, served by the gateway) and
`S3MediaStore` (any S3-compatible object storage). A key names one object, like
`videos/<uuid>.mp4`, `posters/<uuid>.jpg` or `photos/<uuid>.jpg`; it is checked before any I/O.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

MAX_KEY_LENGTH = 1024  # S3's own limit, in bytes (keys are ASCII here)
# Path segments of letters, digits, `.`, `_`, `-`, not starting with a dot: no `..`, no hidden files,
# no empty segment (so no leading, trailing or doubled `/`).
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9._-]*"
_KEY = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")


class MediaNotFound(KeyError):
    """No object has this key (never stored, or already deleted)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no media object {self.key!r}"


class MediaUnavailable(Exception):
    """The store cannot be reached or failed on its side (connection error, timeout, 5xx): the same
    call may succeed later."""


def validate_key(key: str) -> str:
    """`key` itself if it is a safe object key; `ValueError` otherwise."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise ValueError(f"invalid media key {key!r}: use path segments of [A-Za-z0-9._-], no '..'")
    return key


class MediaStore(Protocol):
    """Stores and hands out media objects by key. Every method validates the key first (ValueError)
    and raises `MediaUnavailable` when the store cannot be reached."""

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at `path` under `key` (replacing any object there), streamed from disk."""
        ...

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key` (replacing any object there)."""
        ...

    async def get_bytes(self, key: str) -> bytes:
        """The object's bytes; `MediaNotFound` if there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        ...

    async def locate(self, key: str) -> str | Path:
        """Where a client can read the object: a presigned GET URL (S3, valid `s3_presign_seconds`) or
        the file's path (local); `MediaNotFound` if there is none."""
        ...

    async def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...
