"""Helpers for tests that drive the emulator (here and in the product's own suites)."""

from emulators.testing.client import asgi_client, form_fields, get_policy, photo_file, post_form, upload_photo
from emulators.testing.media import make_clip, make_photo
from emulators.testing.server import run_emulator
from emulators.testing.tasks import FINAL_STATUSES, query_task, submit_synthesis, wait_for_task

__all__ = [
    "FINAL_STATUSES",
    "asgi_client",
    "form_fields",
    "get_policy",
    "make_clip",
    "make_photo",
    "photo_file",
    "post_form",
    "query_task",
    "run_emulator",
    "submit_synthesis",
    "upload_photo",
    "wait_for_task",
]
