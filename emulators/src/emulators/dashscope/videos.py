"""Finished videos, served at signed, expiring URLs like OSS presigned links."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from emulators.settings import EmulatorSettings
from emulators.signed_files import add_signed_files

router = APIRouter()


def videos_dir(settings: EmulatorSettings) -> Path:
    return settings.data_dir / "videos"


add_signed_files(router, "/videos", videos_dir, {".mp4": "video/mp4"})
