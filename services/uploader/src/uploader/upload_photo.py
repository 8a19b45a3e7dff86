"""On GenerationRequested: put the photo where the provider can read it, once per model."""

from __future__ import annotations

from common.db.generations import GenerationStore, fail, now
from common.db.models import TERMINAL, Asset, Status
from common.events import Event, GenerationRequested, ImageUploaded
from common.media import MediaNotFound
from common.providers.dashscope import DETECT_MODEL, SYNTHESIS_MODEL
from common.providers.errors import PermanentProviderError

from uploader.ports import PhotoFiles, ProviderStorage


async def upload_photo(
    event: GenerationRequested, store: GenerationStore, storage: ProviderStorage, photos: PhotoFiles
) -> Event | None:
    generation = await store.load(event.generation_id)
    if generation is None or generation.status in TERMINAL:
        return None
    if generation.detect_image_url and generation.synthesis_image_url:
        # Redelivered: the photo is already uploaded; announce it again without a new upload.
        return _uploaded(event, generation.detect_image_url, generation.synthesis_image_url)
    await store.record(
        event.generation_id, status=Status.UPLOADING, stage="uploader", upload_started_at=now()
    )

    if event.asset_id is None:
        if not event.image_url:
            await fail(store, event.generation_id, "uploader", "MissingImage", "No photo was given.")
            return None
        # A URL the client supplied is passed on as is; the provider fetches it itself.
        detect_url = synthesis_url = event.image_url
    else:
        asset = await store.load_asset(event.asset_id)
        data = await _photo_bytes(asset, photos)
        if asset is None or data is None:
            await fail(store, event.generation_id, "uploader", "MissingImage", "The photo was not found.")
            return None
        try:
            detect = await storage.upload(DETECT_MODEL, asset.file_name, data, asset.content_type)
            synthesis = await storage.upload(SYNTHESIS_MODEL, asset.file_name, data, asset.content_type)
        except PermanentProviderError as exc:  # retryable errors are the stage runner's to retry
            await fail(store, event.generation_id, "uploader", exc.code, exc.message)
            return None
        detect_url, synthesis_url = detect.url, synthesis.url

    await store.record(
        event.generation_id, detect_image_url=detect_url, synthesis_image_url=synthesis_url, uploaded_at=now()
    )
    return _uploaded(event, detect_url, synthesis_url)


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


def _uploaded(event: GenerationRequested, detect_url: str, synthesis_url: str) -> ImageUploaded:
    return ImageUploaded(
        generation_id=event.generation_id,
        template_id=event.template_id,
        detect_image_url=detect_url,
        synthesis_image_url=synthesis_url,
    )
