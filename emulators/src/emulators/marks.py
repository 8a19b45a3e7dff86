"""The `emulator-*` marks tests write into a photo's metadata to script what a provider makes of it."""

from __future__ import annotations

MARK_KEYS = ("emulator-detect", "emulator-detect-code", "emulator-task")


def metadata_marks(info: dict[str | tuple[int, int], object]) -> dict[str, str]:
    """Read `emulator-detect*` from PNG text chunks (as keys or lines) and JPEG comments (as lines)."""
    marks: dict[str, str] = {}
    for key, value in info.items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            continue
        if key in MARK_KEYS:
            marks[str(key)] = value.strip()
            continue
        for line in value.splitlines():
            name, colon, rest = line.partition(":")
            if colon and name.strip() in MARK_KEYS:
                marks[name.strip()] = rest.strip()
    return marks
