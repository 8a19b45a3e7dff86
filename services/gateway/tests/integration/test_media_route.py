"""GET /media/{key}: a signed link serves what the media store holds, and nothing else.

The gateway runs in process on the real broker and database; its media store is a local directory the
test writes to (or a real S3-compatible server, for the redirect), and links are made the way the API
makes them (`common.media.links.media_url`).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from common.media import LocalMediaStore, S3MediaStore
from common.media.links import media_url, sign

from tests.gateway_app import in_process_gateway
from tests.infra import free_port

pytestmark = pytest.mark.integration
SECRET = "media-route-test-key"
CLIP = b"\x00\x00\x00\x18ftypmp42" + os.urandom(200_000)


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
async def api(
    kafka_bootstrap_servers: str, database_url: str, media_dir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_gateway(
        kafka_bootstrap_servers, database_url, media_dir=str(media_dir), media_signing_key=SECRET
    ) as client:
        yield client


@pytest.fixture
async def video(media_dir: Path) -> str:
    key = f"videos/{uuid.uuid4()}.mp4"
    await LocalMediaStore(media_dir).put_bytes(key, CLIP, "video/mp4")
    return key


def link(key: str, expires_at: datetime | None = None) -> str:
    """The link as the API hands it out, without the host (the client calls the app in process)."""
    url = urlsplit(media_url("http://gw", SECRET, key, expires_at or datetime.now(UTC) + timedelta(hours=1)))
    return f"{url.path}?{url.query}"


def problem_code(answer: httpx.Response) -> str:
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    return str(answer.json()["code"])


async def test_a_valid_link_serves_the_stored_bytes(api: httpx.AsyncClient, video: str) -> None:
    answer = await api.get(link(video))

    assert answer.status_code == 200, answer.text
    assert answer.content == CLIP
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["accept-ranges"] == "bytes"
    assert answer.headers["x-content-type-options"] == "nosniff"
    directive, max_age = answer.headers["cache-control"].split(", max-age=")
    assert directive == "private" and 3590 <= int(max_age) <= 3600  # until the link expires


async def test_a_poster_is_a_jpeg_and_a_link_without_expiry_works(
    api: httpx.AsyncClient, media_dir: Path
) -> None:
    key = f"posters/{uuid.uuid4()}.jpg"
    await LocalMediaStore(media_dir).put_bytes(key, b"\xff\xd8\xff poster", "image/jpeg")
    url = urlsplit(media_url("http://gw", SECRET, key, None))

    answer = await api.get(f"{url.path}?{url.query}")

    assert answer.status_code == 200 and answer.content == b"\xff\xd8\xff poster"
    assert answer.headers["content-type"] == "image/jpeg"
    assert "expires=0&" in url.query and answer.headers["cache-control"] == "private, max-age=86400"


async def test_a_range_request_gets_206_and_those_bytes(api: httpx.AsyncClient, video: str) -> None:
    answer = await api.get(link(video), headers={"Range": "bytes=100-199"})

    assert answer.status_code == 206, answer.text
    assert answer.content == CLIP[100:200]
    assert answer.headers["content-range"] == f"bytes 100-199/{len(CLIP)}"


async def test_a_tampered_link_is_403(api: httpx.AsyncClient, video: str, media_dir: Path) -> None:
    other = f"videos/{uuid.uuid4()}.mp4"  # stored too: only the signature keeps it out of reach
    await LocalMediaStore(media_dir).put_bytes(other, b"someone else's video", "video/mp4")
    good = link(video)
    path, query = good.split("?")
    expires = int(query.split("&")[0].removeprefix("expires="))
    signature = query.split("signature=")[1]
    tampered = [
        good.replace(video, other),  # another key
        f"{path}?expires={expires + 86400}&signature={signature}",  # a later expiry
        f"{path}?expires=0&signature={signature}",  # never expiring
        f"{path}?expires={expires}&signature={signature[:-1]}{'0' if signature[-1] != '0' else '1'}",
        f"{path}?expires={expires}",  # no signature
        f"{path}?signature={signature}",  # no expiry
        f"{path}?expires=soon&signature={signature}",
        path,
        f"{path}?expires={expires}&signature=",
        f"{path}?expires=-1&signature={signature}",
    ]
    for url in tampered:
        answer = await api.get(url)
        assert answer.status_code == 403, url
        assert problem_code(answer) == "MediaLinkInvalid"
        assert b"someone else" not in answer.content


async def test_an_expired_link_is_410(api: httpx.AsyncClient, video: str) -> None:
    answer = await api.get(link(video, datetime.now(UTC) - timedelta(seconds=1)))

    assert answer.status_code == 410
    assert problem_code(answer) == "MediaExpired"
    assert "retention" in answer.json()["detail"]


async def test_an_expired_link_with_a_bad_signature_is_403(api: httpx.AsyncClient, video: str) -> None:
    expires = int(time.time()) - 60
    answer = await api.get(f"/media/{video}?expires={expires}&signature={'ab' * 32}")
    assert answer.status_code == 403 and problem_code(answer) == "MediaLinkInvalid"


async def test_a_valid_link_to_nothing_is_404(api: httpx.AsyncClient) -> None:
    answer = await api.get(link(f"videos/{uuid.uuid4()}.mp4"))

    assert answer.status_code == 404
    assert problem_code(answer) == "MediaNotFound"


async def test_a_signed_key_outside_the_store_is_404_not_the_file(
    api: httpx.AsyncClient, media_dir: Path
) -> None:
    (media_dir.parent / "secret.txt").write_text("not media")
    key = "videos/../../secret.txt"  # signed by someone holding the key: still no way out of media_dir
    expires = int(time.time()) + 60
    answer = await api.get(
        f"/media/videos/%2E%2E/%2E%2E/secret.txt?expires={expires}&signature={sign(SECRET, key, expires)}"
    )
    assert answer.status_code == 404, answer.text
    assert b"not media" not in answer.content


async def test_the_route_is_documented_without_api_key_security(api: httpx.AsyncClient) -> None:
    operation = (await api.get("/openapi.json")).json()["paths"]["/media/{key}"]["get"]

    assert operation["security"] == []
    assert {"200", "206", "307", "403", "404", "410", "503"} <= set(operation["responses"])
    assert "video/mp4" in operation["responses"]["200"]["content"]


async def test_object_storage_answers_with_a_redirect_to_a_presigned_url(
    kafka_bootstrap_servers: str, database_url: str, s3_endpoint: str
) -> None:
    bucket = f"it-{uuid.uuid4().hex[:16]}"
    s3 = {
        "s3_endpoint_url": s3_endpoint,
        "s3_bucket": bucket,
        "s3_access_key_id": "test",
        "s3_secret_access_key": "test",
    }
    store = S3MediaStore(
        bucket=bucket, endpoint_url=s3_endpoint, access_key_id="test", secret_access_key="test"
    )
    key = f"videos/{uuid.uuid4()}.mp4"
    try:
        await store.put_bytes(key, CLIP, "video/mp4")
    finally:
        await store.close()

    async with in_process_gateway(
        kafka_bootstrap_servers, database_url, media_backend="s3", media_signing_key=SECRET, **s3
    ) as api:
        answer = await api.get(link(key))
        missing = await api.get(link(f"videos/{uuid.uuid4()}.mp4"))

    assert answer.status_code == 307, answer.text
    assert answer.headers["cache-control"] == "no-store"
    location = answer.headers["location"]
    assert location.startswith(f"{s3_endpoint}/{bucket}/{key}?") and "X-Amz-Signature=" in location
    async with httpx.AsyncClient() as http:
        followed = await http.get(location)
    assert followed.status_code == 200 and followed.content == CLIP
    assert missing.status_code == 404 and problem_code(missing) == "MediaNotFound"


async def test_unreachable_object_storage_is_503_with_retry_after(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    async with in_process_gateway(
        kafka_bootstrap_servers,
        database_url,
        access_mode="keys",  # a media link needs no API key, in either mode
        media_backend="s3",
        media_signing_key=SECRET,
        s3_endpoint_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        s3_access_key_id="test",
        s3_secret_access_key="test",
    ) as api:
        answer = await api.get(link(f"videos/{uuid.uuid4()}.mp4"))

    assert answer.status_code == 503, answer.text
    assert problem_code(answer) == "MediaUnavailable"
    assert int(answer.headers["retry-after"]) > 0
