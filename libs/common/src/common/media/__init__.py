"""Media that lasts: the `MediaStore` port, its local and S3 adapters, and signed media links."""

from __future__ import annotations

from pathlib import Path

from common.media.local import LocalMediaStore
from common.media.s3 import S3MediaStore
from common.media.store import MediaNotFound, MediaStore, MediaUnavailable, validate_key
from common.settings import Settings

__all__ = [
    "LocalMediaStore",
    "MediaNotFound",
    "MediaStore",
    "MediaUnavailable",
    "S3MediaStore",
    "make_media_store",
    "validate_key",
]


def make_media_store(settings: Settings) -> MediaStore:
    """The store `settings.media_backend` names; an S3 store connects (and creates its bucket) on
    first use."""
    if settings.media_backend == "s3":
        return S3MediaStore(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id.get_secret_value() or None,
            secret_access_key=settings.s3_secret_access_key.get_secret_value() or None,
            presign_seconds=settings.s3_presign_seconds,
            timeout_seconds=settings.s3_timeout_seconds,
        )
    return LocalMediaStore(Path(settings.media_dir))
