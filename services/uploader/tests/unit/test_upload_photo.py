import uuid

import pytest
from common.db.models import Status
from common.events import GenerationFailed, GenerationRequested, ImageUploaded
from common.fakes import FakeGenerationStore, asset, generation
from common.media import MediaNotFound
from common.providers.dashscope import DETECT_MODEL, SYNTHESIS_MODEL, Uploaded
from common.providers.errors import PermanentProviderError, RetryableProviderError
from uploader.upload_photo import upload_photo


class FakeStorage:
    """The provider's storage, and the product's media store holding the photos (`photos`)."""

    def __init__(self, error: Exception | None = None, photos: dict[str, bytes] | None = None) -> None:
        self.uploads: list[tuple[str, bytes]] = []
        self.error = error
        self.photos = photos or {}

    async def get_bytes(self, key: str) -> bytes:
        if key not in self.photos:
            raise MediaNotFound(key)
        return self.photos[key]

    async def upload(self, model: str, file_name: str, data: bytes, content_type: str) -> Uploaded:
        if self.error:
            raise self.error
        self.uploads.append((model, data))
        return Uploaded(url=f"oss://dir/{model}/{len(self.uploads)}", model=model)


def _request(gen_id: uuid.UUID, **kw: object) -> GenerationRequested:
    return GenerationRequested(generation_id=gen_id, template_id="AACT.test.1", **kw)  # type: ignore[arg-type]


async def test_photo_is_uploaded_once_for_each_model_that_reads_it() -> None:
    photo = asset(b"abc")
    g = generation(asset_id=photo.id)
    store, storage = FakeGenerationStore(g, assets=(photo,)), FakeStorage()

    event = await upload_photo(_request(g.id, asset_id=photo.id), store, storage, storage)

    assert storage.uploads == [(DETECT_MODEL, b"abc"), (SYNTHESIS_MODEL, b"abc")]
    assert isinstance(event, ImageUploaded)
    assert event.detect_image_url == g.detect_image_url == f"oss://dir/{DETECT_MODEL}/1"
    assert event.synthesis_image_url == g.synthesis_image_url == f"oss://dir/{SYNTHESIS_MODEL}/2"
    assert g.status is Status.UPLOADING and g.uploaded_at is not None


async def test_a_photo_in_the_media_store_is_read_from_there() -> None:
    photo = asset(b"")
    photo.data, photo.media_key = None, f"photos/{photo.id}.png"
    g = generation(asset_id=photo.id)
    store, storage = FakeGenerationStore(g, assets=(photo,)), FakeStorage(photos={photo.media_key: b"xyz"})
    event = await upload_photo(_request(g.id, asset_id=photo.id), store, storage, storage)
    assert isinstance(event, ImageUploaded) and storage.uploads[0] == (DETECT_MODEL, b"xyz")


async def test_a_photo_deleted_from_the_media_store_fails_the_generation_with_a_reason() -> None:
    photo = asset(b"")
    photo.data, photo.media_key = None, f"photos/{photo.id}.png"
    g = generation(asset_id=photo.id)
    store, storage = FakeGenerationStore(g, assets=(photo,)), FakeStorage()
    assert await upload_photo(_request(g.id, asset_id=photo.id), store, storage, storage) is None
    assert (g.status, g.error_code) == (Status.FAILED, "MissingImage") and storage.uploads == []


async def test_redelivered_request_reannounces_without_uploading_again() -> None:
    g = generation(Status.DETECTING, detect_image_url="oss://d", synthesis_image_url="oss://s")
    storage = FakeStorage()
    event = await upload_photo(
        _request(g.id, asset_id=uuid.uuid4()), FakeGenerationStore(g), storage, storage
    )
    assert storage.uploads == []
    assert isinstance(event, ImageUploaded) and event.detect_image_url == "oss://d"
    assert g.status is Status.DETECTING


async def test_client_supplied_url_is_passed_on_untouched() -> None:
    g = generation()
    storage = FakeStorage()
    event = await upload_photo(
        _request(g.id, image_url="https://example.test/me.jpg"), FakeGenerationStore(g), storage, storage
    )
    assert storage.uploads == []
    assert isinstance(event, ImageUploaded)
    assert event.detect_image_url == event.synthesis_image_url == "https://example.test/me.jpg"


async def test_throttling_is_left_to_the_stage_runner_to_retry() -> None:
    photo = asset()
    g = generation(asset_id=photo.id)
    storage = FakeStorage(RetryableProviderError("Throttling", "slow down", status=429))
    with pytest.raises(RetryableProviderError):
        await upload_photo(
            _request(g.id, asset_id=photo.id), FakeGenerationStore(g, assets=(photo,)), storage, storage
        )
    assert g.status is Status.UPLOADING and g.detect_image_url is None


async def test_storage_refusing_the_file_fails_the_generation_with_the_providers_code() -> None:
    photo = asset()
    g = generation(asset_id=photo.id)
    storage = FakeStorage(PermanentProviderError("InvalidParameter", "bad file", status=400))
    store = FakeGenerationStore(g, assets=(photo,))
    assert await upload_photo(_request(g.id, asset_id=photo.id), store, storage, storage) is None
    [event] = store.outbox
    assert isinstance(event, GenerationFailed) and event.code == "InvalidParameter"
    assert (g.status, g.error_code, g.error_message) == (Status.FAILED, "InvalidParameter", "bad file")


async def test_a_canceled_generation_is_not_uploaded() -> None:
    g = generation(Status.CANCELED)
    storage = FakeStorage()
    assert (
        await upload_photo(_request(g.id, asset_id=uuid.uuid4()), FakeGenerationStore(g), storage, storage)
        is None
    )
    assert storage.uploads == []
