"""The media store port's contract, held by both adapters: the local disk and a real S3-compatible server
(moto in server mode, from scripts/s3.sh, or whatever `S3_ENDPOINT_URL` names)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from common.media import LocalMediaStore, MediaNotFound, MediaStore, MediaUnavailable, S3MediaStore
from common.media.s3_errors import s3_errors
from common.settings import Settings

pytestmark = pytest.mark.integration
BIG = 12 * 1024 * 1024  # over the S3 adapter's 8 MiB part size: a multipart upload
CREDENTIALS = {"access_key_id": "test", "secret_access_key": "test"}


def _s3_store(endpoint: str, bucket: str | None = None, **options: object) -> S3MediaStore:
    bucket = bucket or f"it-{uuid.uuid4().hex[:16]}"  # a fresh bucket per test
    return S3MediaStore(bucket=bucket, endpoint_url=endpoint, **CREDENTIALS, **options)  # type: ignore[arg-type]


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MediaStore]:
    media: MediaStore
    if request.param == "local":
        media = LocalMediaStore(tmp_path / "media")
    else:
        media = _s3_store(request.getfixturevalue("s3_endpoint"))
    try:
        yield media
    finally:
        await media.close()


async def _head(store: S3MediaStore, key: str) -> dict[str, object]:
    """HeadObject by a client of the test's own, to see what the adapter really stored."""
    async with get_session().create_client(
        "s3",
        endpoint_url=store._client_args["endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ) as s3:
        return dict(await s3.head_object(Bucket=store.bucket, Key=key))


async def test_a_big_file_goes_in_and_comes_back_equal(store: MediaStore, tmp_path: Path) -> None:
    source = tmp_path / "video.mp4"
    source.write_bytes(content := os.urandom(BIG))
    key = f"videos/{uuid.uuid4()}.mp4"

    await store.put_file(key, source, "video/mp4")

    assert await store.get_bytes(key) == content
    if isinstance(store, S3MediaStore):  # sent in parts read one at a time: "<md5 of md5s>-<parts>"
        head = await _head(store, key)
        assert str(head["ETag"]).strip('"').endswith("-2")
        assert head["ContentType"] == "video/mp4" and head["ContentLength"] == BIG
    else:  # written atomically: no temporary file left next to it
        assert [p.name for p in (tmp_path / "media" / "videos").iterdir()] == [key.split("/")[1]]


async def test_a_small_file_is_one_put(store: MediaStore, tmp_path: Path) -> None:
    source = tmp_path / "poster.jpg"
    source.write_bytes(b"\xff\xd8 small poster")
    await store.put_file("posters/p.jpg", source, "image/jpeg")
    assert await store.get_bytes("posters/p.jpg") == b"\xff\xd8 small poster"
    if isinstance(store, S3MediaStore):
        assert not str((await _head(store, "posters/p.jpg"))["ETag"]).strip('"').count("-")


async def test_bytes_put_get_and_replace(store: MediaStore) -> None:
    key = f"photos/{uuid.uuid4()}.jpg"
    await store.put_bytes(key, b"first", "image/jpeg")
    assert await store.get_bytes(key) == b"first"
    await store.put_bytes(key, b"second", "image/jpeg")
    assert await store.get_bytes(key) == b"second"
    await store.put_bytes("photos/empty.jpg", b"", "image/jpeg")
    assert await store.get_bytes("photos/empty.jpg") == b""


async def test_exists_and_an_idempotent_delete(store: MediaStore) -> None:
    key = "posters/a.jpg"
    assert not await store.exists(key)
    await store.put_bytes(key, b"jpeg", "image/jpeg")
    assert await store.exists(key)
    await store.delete(key)
    assert not await store.exists(key)
    await store.delete(key)  # again: fine
    await store.delete("videos/never-stored.mp4")
    assert not await store.exists("videos")  # a "folder" of keys is no object


async def test_a_missing_key_is_media_not_found(store: MediaStore) -> None:
    with pytest.raises(MediaNotFound) as caught:
        await store.get_bytes("videos/missing.mp4")
    assert isinstance(caught.value, KeyError) and caught.value.key == "videos/missing.mp4"
    with pytest.raises(MediaNotFound):
        await store.locate("videos/missing.mp4")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/videos/a.mp4",
        "../a.mp4",
        "videos/../../etc/passwd",
        "videos//a.mp4",
        "videos/",
        ".hidden",
        "videos/.a.mp4.tmp",
        "a b.mp4",
        "videos\\a.mp4",
        "vidéo.mp4",
        "a?b",
        "x" * 1025,
    ],
)
async def test_invalid_keys_are_refused_before_any_io(store: MediaStore, key: str, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"x")
    calls = [
        store.put_bytes(key, b"x", "image/jpeg"),
        store.put_file(key, source, "image/jpeg"),
        store.get_bytes(key),
        store.exists(key),
        store.delete(key),
        store.locate(key),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="invalid media key"):
            await call
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*"))


async def test_locate_gives_where_a_client_reads_the_object(store: MediaStore) -> None:
    key = f"videos/{uuid.uuid4()}.mp4"
    await store.put_bytes(key, b"\x00\x00\x00\x18ftypmp42 video", "video/mp4")
    where = await store.locate(key)
    if isinstance(store, S3MediaStore):
        assert isinstance(where, str) and "X-Amz-Signature=" in where and "X-Amz-Expires=300" in where
        assert where.startswith(f"{store._client_args['endpoint_url']}/{store.bucket}/{key}?")  # path style
        async with httpx.AsyncClient() as http:
            answer = await http.get(where)
        assert answer.status_code == 200 and answer.content == b"\x00\x00\x00\x18ftypmp42 video"
        assert answer.headers["content-type"] == "video/mp4"
    else:
        assert isinstance(where, Path) and where.is_absolute()
        assert where.read_bytes() == b"\x00\x00\x00\x18ftypmp42 video"


async def test_a_missing_source_file_is_the_callers_error(store: MediaStore, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await store.put_file("videos/a.mp4", tmp_path / "nothing.mp4", "video/mp4")


async def test_concurrent_writes_of_one_key_leave_one_whole_object(store: MediaStore) -> None:
    bodies = [bytes([n]) * 100_000 for n in range(8)]
    await asyncio.gather(*(store.put_bytes("videos/same.mp4", body, "video/mp4") for body in bodies))
    assert await store.get_bytes("videos/same.mp4") in bodies


async def test_s3_creates_its_bucket_once_and_shares_it(s3_endpoint: str) -> None:
    bucket = f"it-{uuid.uuid4().hex[:16]}"
    first, second = _s3_store(s3_endpoint, bucket), _s3_store(s3_endpoint, bucket)
    try:
        await first.ensure_bucket()
        await first.put_bytes("photos/p.jpg", b"p", "image/jpeg")
        await second.ensure_bucket()  # exists already: nothing to do
        assert await second.get_bytes("photos/p.jpg") == b"p"
    finally:
        await first.close()
        await second.close()


async def test_an_unreachable_s3_is_media_unavailable(tmp_path: Path) -> None:
    from tests.infra import free_port

    store = _s3_store(f"http://127.0.0.1:{free_port()}", max_attempts=1)  # nothing listens there
    source = tmp_path / "video.mp4"
    source.write_bytes(os.urandom(BIG))
    try:
        for call in (
            store.put_bytes("photos/p.jpg", b"p", "image/jpeg"),
            store.put_file("videos/v.mp4", source, "video/mp4"),
            store.get_bytes("photos/p.jpg"),
            store.exists("photos/p.jpg"),
            store.delete("photos/p.jpg"),
            store.locate("photos/p.jpg"),
        ):
            with pytest.raises(MediaUnavailable):
                await asyncio.wait_for(call, timeout=30)
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (500, "InternalError", MediaUnavailable),
        (503, "SlowDown", MediaUnavailable),
        (404, "NoSuchKey", MediaNotFound),
        (404, "404", MediaNotFound),
        (403, "AccessDenied", ClientError),
    ],
)
def test_s3_answers_map_to_the_ports_errors(status: int, code: str, expected: type[Exception]) -> None:
    error = ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject"
    )
    with pytest.raises(expected), s3_errors("videos/a.mp4"):
        raise error


def test_settings_choose_the_adapter(tmp_path: Path) -> None:
    from common.media import make_media_store

    local = make_media_store(Settings(media_dir=str(tmp_path)))
    assert isinstance(local, LocalMediaStore) and local.root == tmp_path
    s3 = make_media_store(Settings(media_backend="s3", s3_bucket="b", s3_endpoint_url="http://127.0.0.1:1"))
    assert isinstance(s3, S3MediaStore) and s3.bucket == "b"
