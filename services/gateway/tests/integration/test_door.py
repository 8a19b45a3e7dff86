"""The gateway's door, through HTTP on the real database and broker: every bad input gets a 4xx
`application/problem+json` answer with its own `code`, and leaves nothing behind (no generation, no
asset, no outbox record: the outbox is the only way to Kafka, so nothing is published either)."""

from __future__ import annotations

import io
import socket
import struct
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from emulators.testing import make_photo, png_chunks, png_claiming, png_with_corrupt_pixels, truncated_bmp
from fastapi import FastAPI
from gateway.main import create_app
from PIL import Image

from tests.gateway_app import asyncpg_url, gateway_settings, in_process_gateway, serving

pytestmark = pytest.mark.integration

DANCE_01 = "AACT.8090e67b.ADo5Qtp4EfCu1wAWPj1Rgg.anXxTRJZ"
PROBLEM = "application/problem+json"
TABLES = ("generations", "assets", "outbox")
TIGHT_BODY = 200_000


# --- apps and the database -------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def app(kafka_bootstrap_servers: str, database_url: str) -> FastAPI:
    return create_app(gateway_settings(kafka_bootstrap_servers, database_url))


@pytest.fixture(scope="module")
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


@pytest.fixture(scope="module")
async def tight(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway whose whole-request limit is 200 KB."""
    async with in_process_gateway(kafka_bootstrap_servers, database_url, max_body_bytes=TIGHT_BODY) as client:
        yield client


@pytest.fixture(scope="module")
async def roomy(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway that reads JSON bodies of up to 4 MB, so that nesting, not size, is what it refuses."""
    async with in_process_gateway(kafka_bootstrap_servers, database_url, max_json_bytes=4_000_000) as client:
        yield client


@pytest.fixture(scope="module")
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(asyncpg_url(database_url))
    try:
        yield connection
    finally:
        await connection.close()


async def _rows(db: asyncpg.Connection) -> dict[str, int]:
    return {table: int(await db.fetchval(f"select count(*) from {table}")) for table in TABLES}


async def refused(
    db: asyncpg.Connection,
    send: Awaitable[httpx.Response],
    status: int,
    code: str,
    field: str | None = None,
) -> dict[str, Any]:
    """Send the request; check the problem answer and that no row was added anywhere."""
    before = await _rows(db)
    answer = await send
    after = await _rows(db)
    assert after == before, f"{code}: rows changed {before} -> {after}"
    return problem(answer, status, code, field)


def problem(answer: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, (answer.status_code, answer.text[:500])
    assert answer.headers["content-type"] == PROBLEM, answer.headers.get("content-type")
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    assert body["type"] == f"/problems/{code}" and body["status"] == status, body
    assert body["title"] and body["detail"], body
    if field is not None:
        assert body.get("field") == field, body
    return body


# --- requests ---------------------------------------------------------------------------------------


def create_with_file(
    api: httpx.AsyncClient, name: str, data: bytes, kind: str = "image/png", **fields: str
) -> Awaitable[httpx.Response]:
    return api.post(
        "/api/generations",
        files={"file": (name, data, kind)},
        data={"templateId": DANCE_01, "email": "a@example.com", **fields},
    )


def upload(
    api: httpx.AsyncClient, name: str, data: bytes, kind: str = "image/png"
) -> Awaitable[httpx.Response]:
    return api.post("/api/uploads/image", files={"file": (name, data, kind)}, data={"email": "a@example.com"})


Send = Callable[[httpx.AsyncClient, str, bytes], Awaitable[httpx.Response]]
TO_CREATE: Send = create_with_file
TO_UPLOAD: Send = upload
BOTH_DOORS = pytest.mark.parametrize("send", [TO_CREATE, TO_UPLOAD], ids=["generations", "uploads"])


# --- photos -----------------------------------------------------------------------------------------


def test_crafted_png_really_claims_30000_by_30000(monkeypatch: pytest.MonkeyPatch) -> None:
    data = png_claiming(30000, 30000)
    assert 500 < len(data) < 2048
    (_, ihdr) = png_chunks(data)[0]
    assert struct.unpack(">II", ihdr[:8]) == (30000, 30000)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # Pillow's own bomb check would refuse it
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (30000, 30000)


@BOTH_DOORS
async def test_small_png_claiming_30000_px_sides_is_too_large_not_a_crash(
    api: httpx.AsyncClient, db: asyncpg.Connection, send: Send
) -> None:
    await refused(db, send(api, "bomb.png", png_claiming(30000, 30000)), 400, "ImageTooLarge", "file")


@BOTH_DOORS
async def test_photo_4500_px_square_is_too_large(
    api: httpx.AsyncClient, db: asyncpg.Connection, send: Send
) -> None:
    await refused(db, send(api, "big.png", make_photo(4500, 4500)), 400, "ImageTooLarge", "file")


@pytest.mark.parametrize(
    ("send", "size"),
    [(TO_CREATE, (100, 100)), (TO_UPLOAD, (40, 40))],  # uploads take what any provider takes (64 px)
    ids=["generations-100px", "uploads-40px"],
)
async def test_too_small_photo(
    api: httpx.AsyncClient, db: asyncpg.Connection, send: Send, size: tuple[int, int]
) -> None:
    await refused(db, send(api, "small.png", make_photo(*size)), 400, "ImageTooSmall", "file")


@pytest.mark.parametrize(
    ("send", "size"),
    [(TO_CREATE, (1000, 300)), (TO_UPLOAD, (1000, 200))],  # uploads: height/width down to 0.25
    ids=["generations-1000x300", "uploads-1000x200"],
)
async def test_too_wide_photo(
    api: httpx.AsyncClient, db: asyncpg.Connection, send: Send, size: tuple[int, int]
) -> None:
    await refused(db, send(api, "wide.png", make_photo(*size)), 400, "ImageAspectRatio", "file")


@BOTH_DOORS
async def test_png_with_valid_headers_and_corrupt_pixels(
    api: httpx.AsyncClient, db: asyncpg.Connection, send: Send
) -> None:
    await refused(db, send(api, "broken.png", png_with_corrupt_pixels()), 400, "CorruptImage", "file")


@BOTH_DOORS
async def test_bmp_cut_short(api: httpx.AsyncClient, db: asyncpg.Connection, send: Send) -> None:
    await refused(db, send(api, "cut.bmp", truncated_bmp(), "image/bmp"), 400, "CorruptImage", "file")


@BOTH_DOORS
async def test_text_named_photo_jpg_is_not_an_image(
    api: httpx.AsyncClient, db: asyncpg.Connection, send: Send
) -> None:
    text = b"Dear team,\nthis is not a photo at all.\n" * 20
    await refused(db, send(api, "photo.jpg", text, "image/jpeg"), 415, "UnsupportedFileType", "file")


@BOTH_DOORS
async def test_empty_file_with_a_name(api: httpx.AsyncClient, db: asyncpg.Connection, send: Send) -> None:
    await refused(db, send(api, "me.png", b""), 400, "EmptyFile", "file")


@pytest.mark.parametrize(
    "file_name",
    [
        b"..\\..\\evil\x07.png",
        b"..\\\\..\\\\evil\t.png",
        b"../../evil\x01.png",
        b"C:\\Users\\me\\evil\x1b.png",
        "\u202eevil\x00.png".encode(),
    ],
)
async def test_upload_file_name_is_reduced_to_a_plain_name(
    api: httpx.AsyncClient, db: asyncpg.Connection, file_name: bytes
) -> None:
    """The name as the Content-Disposition carries it, raw control characters and all."""
    boundary = b"door-test-boundary"
    body = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="file"; filename="'
        + file_name
        + b'"\r\nContent-Type: image/png\r\n\r\n'
        + make_photo(300, 400)
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
    before = await _rows(db)
    answer = await api.post(
        "/api/uploads/image",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary.decode()}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["fileName"] == "evil.png"
    after = await _rows(db)
    assert after == {**before, "assets": before["assets"] + 1}  # the asset only: nothing published
    stored = await db.fetchval(
        "select file_name from assets where id = $1", uuid.UUID(answer.json()["assetId"])
    )
    assert stored == "evil.png"


async def test_upload_file_name_as_a_browser_encodes_it(api: httpx.AsyncClient) -> None:
    """httpx, like a browser form, sends the newline as %0A and escapes the backslashes."""
    answer = await upload(api, "..\\..\\evil\n.png", make_photo(300, 400))
    assert answer.status_code == 200, answer.text
    name = answer.json()["fileName"]
    assert name == "evil%0A.png"
    assert not any(c in name for c in "/\\") and name.isprintable() and not name.startswith("."), name


# --- JSON -------------------------------------------------------------------------------------------

DEEP_LIST = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"":' * 100_000 + "0" + "}" * 100_000


@pytest.mark.parametrize("body", [DEEP_LIST, DEEP_OBJECT], ids=["list", "object"])
async def test_json_nested_100000_levels_is_refused_not_a_crash(
    api: httpx.AsyncClient, roomy: httpx.AsyncClient, db: asyncpg.Connection, body: str
) -> None:
    assert len(body) >= 200_000
    headers = {"content-type": "application/json"}
    # Over the JSON size limit: refused while reading.
    await refused(db, api.post("/api/generations", content=body, headers=headers), 413, "RequestTooLarge")
    # Under a large enough limit: the parser's recursion limit refuses it.
    await refused(db, roomy.post("/api/generations", content=body, headers=headers), 400, "InvalidJson")


async def test_json_nested_50_levels_is_invalid(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    nested = '{"a":' * 50 + "1" + "}" * 50
    body = f'{{"templateId": "{DANCE_01}", "imageUrl": "https://example.com/me.png", "extra": {nested}}}'
    answer = await refused(
        db,
        api.post("/api/generations", content=body, headers={"content-type": "application/json"}),
        400,
        "InvalidJson",
    )
    assert "nested" in answer["detail"]


async def test_json_nested_just_under_the_parsers_limit_is_never_a_crash(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Depths the JSON parser accepts but a recursive walk of the value may not: 2 KB, default limits."""
    before = await _rows(db)
    for depth in range(850, 1010, 5):
        body = '{"templateId": "x", "a": ' + "[" * depth + "]" * depth + "}"
        answer = await api.post(
            "/api/generations", content=body, headers={"content-type": "application/json"}
        )
        problem(answer, 400, "InvalidJson")
    assert await _rows(db) == before


@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded"])
async def test_json_sent_under_another_media_type(
    api: httpx.AsyncClient, db: asyncpg.Connection, kind: str
) -> None:
    body = f'{{"templateId": "{DANCE_01}", "imageUrl": "https://example.com/me.png"}}'
    await refused(
        db,
        api.post("/api/generations", content=body, headers={"content-type": kind}),
        415,
        "UnsupportedMediaType",
    )


@pytest.mark.parametrize(
    "kind", ["text/plain", "application/x-www-form-urlencoded", "application/json", None]
)
async def test_upload_that_is_not_multipart(
    api: httpx.AsyncClient, db: asyncpg.Connection, kind: str | None
) -> None:
    headers = {"content-type": kind} if kind else {}
    send = api.post("/api/uploads/image", content=b'{"file": "me.png"}' if kind else b"", headers=headers)
    await refused(db, send, 415, "UnsupportedMediaType")


async def test_upload_without_a_file_part(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    send = api.post("/api/uploads/image", data={"email": "a@example.com"}, files={"photo": ("a.png", b"x")})
    await refused(db, send, 422, "InvalidRequest", "file")


# --- image URLs -------------------------------------------------------------------------------------

BAD_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/x",
    "https://127.0.0.1:8100/x.png",
    "https://[::1]/x",
    "https://10.0.0.5/x",
    "https:///x.png",
    "https://a b.com/x.png",
    "https://x.com/a\r\nX: y",
    "http://8.8.8.8/x.png",
    "file:///etc/passwd",
]
FETCHED = ("ami-id", "instance-id", "root:", "/bin/", "iam", "<html", "HTTP/")


@pytest.mark.parametrize("field", ["imageUrl", "ossUrl"])
@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("form", ["multipart", "json"])
async def test_image_url_that_is_not_public_https_is_refused(
    api: httpx.AsyncClient, db: asyncpg.Connection, field: str, url: str, form: str
) -> None:
    fields = {"templateId": DANCE_01, "email": "a@example.com", field: url}
    send = (
        api.post("/api/generations", json=fields)
        if form == "json"
        else api.post("/api/generations", data=fields, files={"unused": ("", b"", "text/plain")})
    )
    body = await refused(db, send, 400, "InvalidImageUrl", field)
    assert not any(token in body["detail"] for token in FETCHED), body["detail"]
    assert "\r" not in body["detail"] and "\n" not in body["detail"]


async def test_refused_image_url_is_never_fetched(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        for url in (f"https://127.0.0.1:{port}/x.png", f"http://127.0.0.1:{port}/x.png"):
            await refused(
                db,
                api.post("/api/generations", json={"templateId": DANCE_01, "imageUrl": url}),
                400,
                "InvalidImageUrl",
                "imageUrl",
            )
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked


@pytest.mark.parametrize(
    ("file", "fields", "named"),
    [
        (True, {"ossUrl": "https://example.com/me.png"}, ("file", "ossUrl")),
        (True, {"imageUrl": "https://example.com/me.png"}, ("file", "imageUrl")),
        (
            False,
            {"ossUrl": "oss://bucket/me.png", "imageUrl": "https://example.com/me.png"},
            ("ossUrl", "imageUrl"),
        ),
    ],
    ids=["file+ossUrl", "file+imageUrl", "ossUrl+imageUrl"],
)
async def test_more_than_one_image_is_ambiguous(
    api: httpx.AsyncClient,
    db: asyncpg.Connection,
    file: bool,
    fields: dict[str, str],
    named: tuple[str, str],
) -> None:
    # Without a file, an empty unknown part keeps the body multipart/form-data.
    files = {
        "file" if file else "unused": ("me.png", make_photo(300, 400), "image/png")
        if file
        else ("", b"", "text/plain")
    }
    send = api.post(
        "/api/generations", data={"templateId": DANCE_01, "email": "a@example.com", **fields}, files=files
    )
    body = await refused(db, send, 400, "AmbiguousImage", named[1])
    assert all(name in body["detail"] for name in named), body["detail"]


# --- sizes ------------------------------------------------------------------------------------------


def _big_form(size: int) -> tuple[bytes, str]:
    boundary = "door-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="templateId"\r\n\r\n{DANCE_01}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + make_photo(300, 400)
        + b"\0" * size
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


async def _chunked(data: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at : at + size]


@pytest.mark.parametrize("path", ["/api/generations", "/api/uploads/image"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_body_over_the_limit_is_413(
    tight: httpx.AsyncClient, db: asyncpg.Connection, path: str, framing: str
) -> None:
    body, kind = _big_form(300_000)
    assert len(body) > TIGHT_BODY
    if framing == "content-length":
        send = tight.post(path, content=body, headers={"content-type": kind})
    else:
        send = tight.post(path, content=_chunked(body), headers={"content-type": kind})
    await refused(db, send, 413, "RequestTooLarge")


async def test_json_body_over_the_limit_is_413_when_chunked(
    tight: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    body = ('{"templateId": "' + DANCE_01 + '", "pad": "' + "x" * 300_000 + '"}').encode()
    send = tight.post(
        "/api/generations", content=_chunked(body), headers={"content-type": "application/json"}
    )
    await refused(db, send, 413, "RequestTooLarge")


# --- fields -----------------------------------------------------------------------------------------


async def test_unknown_template(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    send = api.post(
        "/api/generations",
        files={"file": ("me.png", make_photo(300, 400), "image/png")},
        data={"templateId": "AACT.nope.nope.nope"},
    )
    await refused(db, send, 400, "UnknownTemplate", "templateId")


@pytest.mark.parametrize("email", ["not-an-email", "a@b@c", "a b@c.d"])
async def test_malformed_email(api: httpx.AsyncClient, db: asyncpg.Connection, email: str) -> None:
    send = create_with_file(api, "me.png", make_photo(300, 400), email=email)
    await refused(db, send, 422, "InvalidRequest", "email")


# --- routing and the unexpected -----------------------------------------------------------------------


async def test_method_not_allowed_on_the_collection(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    answer = await api.delete("/api/generations")
    problem(answer, 405, "MethodNotAllowed")
    assert answer.headers["allow"] == "GET, POST"  # no OPTIONS: no CORS here, so it answers 405 too
    assert (await api.options("/api/generations")).status_code == 405


async def test_method_not_allowed_on_templates(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    answer = await refused(db, api.put("/api/generation/templates", json={}), 405, "MethodNotAllowed")
    assert answer["detail"].startswith("PUT is not allowed")
    assert (await api.put("/api/generation/templates")).headers["allow"] == "GET"


async def test_unknown_path_is_a_404_problem(api: httpx.AsyncClient) -> None:
    problem(await api.get("/api/nothing-here"), 404, "NotFound")
    problem(await api.post("/api/generation", json={}), 404, "NotFound")


@pytest.mark.parametrize("path", ["/api/generations/not-a-uuid", "/api/generations/123/cancel"])
async def test_malformed_generation_id_is_a_422_problem(api: httpx.AsyncClient, path: str) -> None:
    send = api.post(path) if path.endswith("/cancel") else api.get(path)
    problem(await send, 422, "InvalidRequest")


async def test_unexpected_exception_is_a_500_problem_with_a_request_id(
    app: FastAPI, api: httpx.AsyncClient, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.api
    from gateway.catalogue import Catalogue

    async def broken(*args: object, **kwargs: object) -> Any:
        raise RuntimeError("the database is on fire: postgres://secret@db")

    monkeypatch.setattr(gateway.api, "page_of", broken)
    monkeypatch.setattr(Catalogue, "find", broken)
    # The app `api` started; this client does not re-raise what the app raises.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    create = {"templateId": DANCE_01, "imageUrl": "https://example.com/me.png"}
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        for method, path, body, given_id in [
            ("GET", "/api/generations", None, None),
            ("GET", "/api/generations", None, "req-42"),
            ("POST", "/api/generations", create, None),
            ("POST", "/api/generations", create, "req-43"),
        ]:
            headers = {"x-request-id": given_id} if given_id else {}
            before = await _rows(db)
            answer = await client.request(method, path, json=body, headers=headers)
            assert await _rows(db) == before
            detail = problem(answer, 500, "InternalError")["detail"]
            request_id = answer.headers["x-request-id"]
            assert request_id == (given_id or request_id) and request_id in detail
            assert "secret" not in detail and "fire" not in detail
