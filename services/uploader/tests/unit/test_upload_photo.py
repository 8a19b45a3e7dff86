import uuid

import pytest
from common.db.models import Status
from common.events import GenerationFailed, GenerationRequested, ImageUploaded
from common.fakes import FakeGenerationStore, asset, generation
from common.media import MediaNotFound
from common.providers.errors import PermanentProviderError, RetryableProviderError
from common.providers.ports import Photo, PlacedPhoto
from uploader.upload_photo import upload_photo


class FakeStorage:
    """A provider's photo storage, and the product's media store holding the photos (`photos`)."""

    def __init__(
        self, error: Exception | None = None, photos: dict[str, bytes] | None = None, name: str = "dashscope"
    ) -> None:
        self.uploads: list[bytes] = []
        self.placed: list[Photo] = []
        self.error = error
        self.photos = photos or {}
        self.name = name

    async def get_bytes(self, key: str) -> bytes:
        if key not in self.photos:
            raise MediaNotFound(key)
        return self.photos[key]

    async def place(self, photo: Photo) -> PlacedPhoto:
        if self.error:
            raise self.error
        self.uploads.append(photo.data)
        self.placed.append(photo)
        n = len(self.uploads)
        return PlacedPhoto(check_url=f"{self.name}://check/{n}", job_url=f"{self.name}://job/{n}")

    @property
    def by_name(self) -> dict[str, "FakeStorage"]:
        return {self.name: self}


def _request(gen_id: uuid.UUID, **kw: object) -> GenerationRequested:
    return GenerationRequested(generation_id=gen_id, template_id="AACT.test.1", **kw)  # type: ignore[arg-type]


async def test_the_photo_goes_to_the_generations_own_provider() -> None:
    photo = asset(b"abc")
    g = generation(asset_id=photo.id, provider="cutout")
    dashscope, cutout = FakeStorage(name="dashscope"), FakeStorage(name="cutout")
    store = FakeGenerationStore(g, assets=(photo,))

    event = await upload_photo(
        _request(g.id, asset_id=photo.id), store, dashscope.by_name | cutout.by_name, dashscope
    )

    assert dashscope.uploads == [] and cutout.uploads == [b"abc"]
    assert (cutout.placed[0].file_name, cutout.placed[0].content_type) == ("me.png", "image/png")
    assert isinstance(event, ImageUploaded)
    assert event.check_image_url == g.check_image_url == "cutout://check/1"
    assert event.job_image_url == g.job_image_url == "cutout://job/1"
    assert g.status is Status.UPLOADING and g.uploaded_at is not None


async def test_a_photo_in_the_media_store_is_read_from_there() -> None:
    photo = asset(b"")
    photo.data, photo.media_key = None, f"photos/{photo.id}.png"
    g = generation(asset_id=photo.id)
    store, storage = FakeGenerationStore(g, assets=(photo,)), FakeStorage(photos={photo.media_key: b"xyz"})
    event = await upload_photo(_request(g.id, asset_id=photo.id), store, storage.by_name, storage)
    assert isinstance(event, ImageUploaded) and storage.uploads == [b"xyz"]
    assert storage.placed[0].media_key == photo.media_key  # a provider that fetches links uses the key


async def test_a_photo_deleted_from_the_media_store_fails_the_generation_with_a_reason() -> None:
    photo = asset(b"")
    photo.data, photo.media_key = None, f"photos/{photo.id}.png"
    g = generation(asset_id=photo.id)
    store, storage = FakeGenerationStore(g, assets=(photo,)), FakeStorage()
    assert await upload_photo(_request(g.id, asset_id=photo.id), store, storage.by_name, storage) is None
    assert (g.status, g.error_code) == (Status.FAILED, "MissingImage") and storage.uploads == []


async def test_redelivered_request_reannounces_without_uploading_again() -> None:
    g = generation(Status.DETECTING, check_image_url="oss://d", job_image_url="oss://s")
    storage = FakeStorage()
    event = await upload_photo(
        _request(g.id, asset_id=uuid.uuid4()), FakeGenerationStore(g), storage.by_name, storage
    )
    assert storage.uploads == []
    assert isinstance(event, ImageUploaded) and event.check_image_url == "oss://d"
    assert g.status is Status.DETECTING


async def test_client_supplied_url_is_passed_on_untouched() -> None:
    g = generation()
    storage = FakeStorage()
    event = await upload_photo(
        _request(g.id, image_url="https://example.test/me.jpg"),
        FakeGenerationStore(g),
        storage.by_name,
        storage,
    )
    assert storage.uploads == []
    assert isinstance(event, ImageUploaded)
    assert event.check_image_url == event.job_image_url == "https://example.test/me.jpg"


async def test_throttling_is_left_to_the_stage_runner_to_retry() -> None:
    photo = asset()
    g = generation(asset_id=photo.id)
    storage = FakeStorage(RetryableProviderError("Throttling", "slow down", status=429))
    with pytest.raises(RetryableProviderError):
        await upload_photo(
            _request(g.id, asset_id=photo.id),
            FakeGenerationStore(g, assets=(photo,)),
            storage.by_name,
            storage,
        )
    assert g.status is Status.UPLOADING and g.check_image_url is None


async def test_storage_refusing_the_file_fails_the_generation_with_the_providers_code() -> None:
    photo = asset()
    g = generation(asset_id=photo.id)
    storage = FakeStorage(PermanentProviderError("InvalidParameter", "bad file", status=400))
    store = FakeGenerationStore(g, assets=(photo,))
    assert await upload_photo(_request(g.id, asset_id=photo.id), store, storage.by_name, storage) is None
    [event] = store.outbox
    assert isinstance(event, GenerationFailed) and event.code == "InvalidParameter"
    assert (g.status, g.error_code, g.error_message) == (Status.FAILED, "InvalidParameter", "bad file")


async def test_a_canceled_generation_is_not_uploaded() -> None:
    g = generation(Status.CANCELED)
    storage = FakeStorage()
    assert (
        await upload_photo(
            _request(g.id, asset_id=uuid.uuid4()), FakeGenerationStore(g), storage.by_name, storage
        )
        is None
    )
    assert storage.uploads == []
