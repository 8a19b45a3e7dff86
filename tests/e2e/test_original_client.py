"""A client written for the ORIGINAL project (shared/docs/original-api.md), replayed byte for byte.

The bodies are what a browser sends: multipart forms with a WebKit boundary, the parts in form order,
an empty `<input type=file>` as a part with `filename=""`; JSON as `JSON.stringify` writes it. Only the
fields the original frontend reads are checked. Where this project differs on purpose (202 instead of
200, its own status names, problem+json instead of 200 `FAILED`), the test checks what such a client
relies on: the keys it reads are there, `generationId` leads to a `SUCCEEDED` status with a video.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from common.db.models import Status

from tests.e2e.images import person_photo

pytestmark = pytest.mark.e2e

DANCE_01 = "AACT.8090e67b.ADo5Qtp4EfCu1wAWPj1Rgg.anXxTRJZ"
DANCE_02 = "AACT.8090e67b.zNZS1u2FEfCnyAAWPj1RRQ.Viw40txe"
BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
BROWSER = {
    "Accept": "application/json, text/plain, */*",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0",
}
# What the original frontend reads from each answer.
CREATE_KEYS = {"generationId", "status", "checkPass", "taskId", "message"}
STATUS_KEYS = {"generationId", "status", "taskId", "videoUrl", "message"}
UPLOAD_KEYS = {"assetId", "ossUrl", "fileName"}
TEMPLATE_KEYS = {"templateId", "name", "previewUrl"}
# A client of the original stops polling on the provider's end states; this project adds two of its own.
ENDED = {"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN", "TIMED_OUT", "EXPIRED"}

Part = tuple[str, str] | tuple[str, tuple[str, str, bytes]]


def multipart(*parts: Part) -> tuple[bytes, dict[str, str]]:
    """The body and headers a browser sends for a <form enctype="multipart/form-data">."""
    body = bytearray()
    for name, value in parts:
        body += f"--{BOUNDARY}\r\n".encode()
        if isinstance(value, tuple):
            file_name, kind, data = value
            body += (
                f'Content-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
                f"Content-Type: {kind}\r\n\r\n"
            ).encode()
            body += data + b"\r\n"
        else:
            body += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            body += value.encode() + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    return bytes(body), {**BROWSER, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def as_json(value: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of `fetch(url, {body: JSON.stringify(value), headers: {Content-Type: ...}})`."""
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return body, {**BROWSER, "Content-Type": "application/json"}


def post(gateway: str, path: str, request: tuple[bytes, dict[str, str]]) -> httpx.Response:
    body, headers = request
    return httpx.post(f"{gateway}{path}", content=body, headers=headers, timeout=30)


def upload(gateway: str) -> dict[str, Any]:
    photo = ("file", ("me.png", "image/png", person_photo((600, 900))))
    answer = post(gateway, "/api/uploads/image", multipart(photo, ("email", "me@example.com")))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body.keys() >= UPLOAD_KEYS, body
    return body


def created(answer: httpx.Response) -> str:
    """The generation id from a create answer, as the original client takes it."""
    assert 200 <= answer.status_code < 300, answer.text  # the original: 200; this project: 202
    body = answer.json()
    assert body.keys() >= CREATE_KEYS, body
    assert body["generationId"] and body["status"] != "FAILED", body
    assert isinstance(body["message"], str) and body["message"], body
    return str(body["generationId"])


def poll(gateway: str, generation_id: str, timeout: float = 120) -> dict[str, Any]:
    """GET the status as the original client does until it ends; every answer has the keys it reads."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        answer = httpx.get(f"{gateway}/api/generations/{generation_id}", headers=BROWSER, timeout=10)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body.keys() >= STATUS_KEYS, body
        assert body["generationId"] == generation_id
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] in ENDED:
            body["seen"] = seen
            return body
        assert not body["videoUrl"], body  # no video before the end (the original: "", here: null)
        time.sleep(0.3)
    raise AssertionError(f"{generation_id} still {seen} after {timeout}s")


def create_and_follow(gateway: str, request: tuple[bytes, dict[str, str]]) -> dict[str, Any]:
    """POST a create as the original client does, take its generation id, poll its status to the end."""
    return poll(gateway, created(post(gateway, "/api/generations", request)))


def assert_video(final: dict[str, Any]) -> None:
    assert final["status"] == "SUCCEEDED", final
    assert final["taskId"], final
    video = httpx.get(final["videoUrl"], timeout=30)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp", video.content[:16]


# --- the calls ------------------------------------------------------------------------------------


def test_templates_include_the_original_two_by_name(gateway_url: str) -> None:
    answer = httpx.get(f"{gateway_url}/api/generation/templates", headers=BROWSER)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    templates = answer.json()
    assert isinstance(templates, list)
    assert all(t.keys() >= TEMPLATE_KEYS for t in templates), templates
    names = {t["templateId"]: t["name"] for t in templates}
    assert names[DANCE_01] == "Dance 01" and names[DANCE_02] == "Dance 02"
    originals = [t for t in templates if t["templateId"] in (DANCE_01, DANCE_02)]
    assert all(t["previewUrl"] is None or isinstance(t["previewUrl"], str) for t in originals)


def test_upload_answers_asset_id_oss_url_and_file_name(gateway_url: str) -> None:
    body = upload(gateway_url)
    assert body["assetId"] and body["ossUrl"] and body["fileName"] == "me.png"


def test_multipart_create_with_a_file_becomes_a_video(gateway_url: str) -> None:
    request = multipart(
        ("file", ("dancer.png", "image/png", person_photo())),
        ("templateId", DANCE_01),
        ("email", "dancer@example.com"),
    )
    assert_video(create_and_follow(gateway_url, request))


def test_multipart_create_with_an_empty_file_input_and_an_uploaded_photo(gateway_url: str) -> None:
    """The original form always has its file input: left empty, the browser still sends the part."""
    oss_url = upload(gateway_url)["ossUrl"]
    request = multipart(
        ("file", ("", "application/octet-stream", b"")),
        ("templateId", DANCE_02),
        ("email", ""),
        ("ossUrl", oss_url),
        ("agreeTerms", "on"),
    )
    assert_video(create_and_follow(gateway_url, request))


def test_json_create_with_an_uploaded_photo_and_an_unknown_field(gateway_url: str) -> None:
    oss_url = upload(gateway_url)["ossUrl"]
    newer_frontend = {"someExtraField": {"from": "a newer frontend"}}
    request = as_json({"templateId": DANCE_02, "email": "me@example.com", "ossUrl": oss_url} | newer_frontend)
    final = create_and_follow(gateway_url, request)
    assert_video(final)
    # This project's status names, not the provider's verbatim (no PRE-/POST-PROCESSING, UNKNOWN).
    assert set(final["seen"]) <= set(Status), final["seen"]


# --- where an original client meets a deliberate difference -----------------------------------------


def test_create_answer_before_the_photo_is_checked(gateway_url: str) -> None:
    """The original answered after detection and submission: 200, PENDING, checkPass true, a taskId.
    This project answers at once: 202, QUEUED, both still null; the status GET fills them in."""
    request = multipart(
        ("file", ("dancer.png", "image/png", person_photo())),
        ("templateId", DANCE_01),
        ("email", "dancer@example.com"),
    )
    answer = post(gateway_url, "/api/generations", request)
    assert answer.status_code == 202
    body = answer.json()
    assert (body["status"], body["checkPass"], body["taskId"]) == ("QUEUED", None, None), body
    final = poll(gateway_url, body["generationId"])
    assert final["status"] == "SUCCEEDED" and final["taskId"] and final["checkPass"] is True, final


def test_photo_the_detector_rejects_fails_later_with_its_reason(gateway_url: str) -> None:
    """The original: 200 {generationId: null, status: FAILED, checkPass: false, message}. Here the
    create is accepted and the status ends FAILED with checkPass false and the reason as message."""
    reason = "The input image contains no person or multiple people."
    request = multipart(
        ("file", ("crowd.png", "image/png", person_photo(detect_verdict=reason))),
        ("templateId", DANCE_01),
        ("email", "crowd@example.com"),
    )
    final = create_and_follow(gateway_url, request)
    assert final["status"] == "FAILED" and final["checkPass"] is False, final
    assert final["message"] == reason and final["taskId"] is None and final["videoUrl"] is None


@pytest.mark.parametrize(
    ("method", "path", "request_", "status", "code"),
    [
        (
            "POST",
            "/api/generations",
            multipart(("file", ("me.png", "image/png", person_photo())), ("templateId", "AACT.gone.gone")),
            400,
            "UnknownTemplate",
        ),
        (
            "POST",
            "/api/generations",
            as_json({"templateId": DANCE_01, "email": "a@b.c"}),
            400,
            "MissingImage",
        ),
        (
            "POST",
            "/api/generations",
            multipart(
                ("file", ("me.png", "image/png", person_photo())),
                ("templateId", DANCE_01),
                ("ossUrl", "oss://dashscope-instant/x/me.png"),
            ),
            400,
            "AmbiguousImage",
        ),
        ("GET", "/api/generations/4b0c0b6e-4a7c-4bb6-9c4d-000000000000", None, 404, "GenerationNotFound"),
        ("GET", "/api/generations/12345", None, 422, "InvalidRequest"),
    ],
    ids=["unknown-template", "no-image", "file-and-ossUrl", "unknown-id", "malformed-id"],
)
def test_failures_are_problems_not_200_failed(
    gateway_url: str,
    method: str,
    path: str,
    request_: tuple[bytes, dict[str, str]] | None,
    status: int,
    code: str,
) -> None:
    """The original answered these 200 {status: FAILED, message}; here: 4xx application/problem+json,
    whose text is `detail` (there is no `message`)."""
    body, headers = request_ or (None, BROWSER)
    answer = httpx.request(method, f"{gateway_url}{path}", content=body, headers=headers, timeout=30)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == code and problem["detail"] and "message" not in problem, problem
