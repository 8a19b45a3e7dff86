"""The files of cutout.pro's results (MP4 and GIF) at the signed links `task_info` makes, with OSS-style
errors for a missing, wrong or expired signature."""

from __future__ import annotations

from fastapi import APIRouter

from emulators.cutout.store import results_dir
from emulators.cutout.task_info import RESULTS_ROUTE
from emulators.signed_files import add_signed_files

router = APIRouter()
add_signed_files(router, RESULTS_ROUTE, results_dir, {".mp4": "video/mp4", ".gif": "image/gif"})
