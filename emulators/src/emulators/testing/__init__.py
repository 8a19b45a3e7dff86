"""Helpers for tests that drive the emulator (here and in the product's own suites)."""

from emulators.testing.client import asgi_client, form_fields, get_policy, photo_file, post_form, upload_photo
from emulators.testing.media import (
    PngChunk,
    first_half,
    flat_photo,
    make_clip,
    make_photo,
    noise_image,
    png_chunks,
    png_claiming,
    png_of,
    png_with_corrupt_pixels,
    png_with_idat,
    truncated_bmp,
)
from emulators.testing.server import run_emulator
from emulators.testing.tasks import FINAL_STATUSES, query_task, submit_synthesis, wait_for_task

__all__ = [
    "FINAL_STATUSES",
    "PngChunk",
    "asgi_client",
    "first_half",
    "flat_photo",
    "form_fields",
    "get_policy",
    "make_clip",
    "make_photo",
    "noise_image",
    "photo_file",
    "png_chunks",
    "png_claiming",
    "png_of",
    "png_with_corrupt_pixels",
    "png_with_idat",
    "post_form",
    "query_task",
    "run_emulator",
    "submit_synthesis",
    "truncated_bmp",
    "upload_photo",
    "wait_for_task",
]
