"""On GenerationRequested: put the photo where the generation's provider can read it."""

from __future__ import annotations

from collections.abc import Mapping

from common.db.generations import GenerationStore, fail, now
from common.db.models import TERMINAL, Asset, Status
from common.events import Event, GenerationRequested, ImageUploaded
from common.media import MediaNotFound
from common.providers.errors import PermanentProviderError
from common.providers.ports import Photo, PhotoStorage

from uploader.ports import PhotoFiles


async def upload_photo(
    event: GenerationRequested,
    store: GenerationStore,
    storages: Mapping[str, PhotoStorage],
    photos: PhotoFiles,
) -> Event | None:
    """`storages`: each provider's photo storage, by name."""
    generation = await store.load(event.generation_id)
    if generation is None or generation.status in TERMINAL:
        return None
    if generation.check_image_url and generation.job_image_url:
        # Redelivered: the photo is already uploaded; announce it again without a new upload.
        return _uploaded(event, generation.check_image_url, generation.job_image_url)
    await store.record(
        event.generation_id, status=Status.UPLOADING, stage="uploader", upload_started_at=now()
    )

    if event.asset_id is None:
        if not event.image_url:
            await fail(store, event.generation_id, "uploader", "MissingImage", "No photo was given.")
            return None
        # A URL the client supplied is passed on as is; the provider fetches it itself.
        check_url = job_url = event.image_url
    else:
        asset = await store.load_asset(event.asset_id)
        data = await _photo_bytes(asset, photos)
        if asset is None or data is None:
            await fail(store, event.generation_id, "uploader", "MissingImage", "The photo was not found.")
            return None
        photo = Photo(asset.file_name, asset.content_type, data, asset.media_key)
        try:
            placed = await storages[generation.provider].place(photo)
        except PermanentProviderError as exc:  # retryable errors are the stage runner's to retry
            await fail(store, event.generation_id, "uploader", exc.code, exc.message)
            return None
        check_url, job_url = placed.check_url, placed.job_url

    await store.record(
        event.generation_id, check_image_url=check_url, job_image_url=job_url, uploaded_at=now()
    )
    return _uploaded(event, check_url, job_url)


async def _photo_bytes(asset: Asset | None, photos: PhotoFiles) -> bytes | None:
    """The photo from the media store (or, accepted before it existed, from the row itself)."""
    if asset is None or asset.data is not None:
        return None if asset is None else asset.data
    if asset.media_key is None:
        return None
    try:
        return await photos.get_bytes(asset.media_key)
    except MediaNotFound:
        return None


def _uploaded(event: GenerationRequested, check_url: str, job_url: str) -> ImageUploaded:
    return ImageUploaded(
        generation_id=event.generation_id,
        template_id=event.template_id,
        check_image_url=check_url,
        job_image_url=job_url,
    )
