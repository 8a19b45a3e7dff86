"""Detection (dashscope.md §2 and the detection page): limits, both failure paths, URL rules."""

from __future__ import annotations

import hashlib
import io
import socket
from typing import Any

import httpx
import pytest
from emulators.config import RuntimeConfig
from emulators.deps import Emulator
from emulators.testing import make_photo, upload_photo
from PIL import Image

DETECT = "animate-anyone-detect-gen2"
DETECT_PATH = "/api/v1/services/aigc/image2video/aa-detect"
RESOLVE = {"X-DashScope-OssResourceResolve": "enable"}


async def detect(client: httpx.AsyncClient, image_url: str, **headers: str) -> httpx.Response:
    body: dict[str, Any] = {"model": DETECT, "input": {"image_url": image_url}}
    return await client.post(DETECT_PATH, json=body, headers=RESOLVE | headers)


async def detect_photo(client: httpx.AsyncClient, data: bytes) -> httpx.Response:
    return await detect(client, await upload_photo(client, data, model=DETECT))


def image_bytes(width: int, height: int, image_format: str, noise: bool = False) -> bytes:
    if noise:
        image = Image.effect_noise((width, height), 100).convert("RGB")
    else:
        image = Image.new("RGB", (width, height), (90, 90, 90))
    out = io.BytesIO()
    image.save(out, image_format)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(image_bytes(400, 600, "GIF"), "InvalidURL", id="gif-format"),
        pytest.param(b"not an image at all", "InvalidURL", id="not-an-image"),
        pytest.param(image_bytes(1400, 1400, "BMP"), "InvalidFile.Size", id="over-5mb"),
        pytest.param(image_bytes(220, 400, "PNG"), "InvalidFile.Resolution", id="short-side-220"),
        pytest.param(image_bytes(2100, 4096, "PNG"), "InvalidFile.Resolution", id="long-side-4096"),
        pytest.param(image_bytes(300, 700, "PNG"), "InvalidFile.AspectRatio", id="too-tall"),
        pytest.param(image_bytes(700, 300, "PNG"), "InvalidFile.AspectRatio", id="too-wide"),
    ],
)
async def test_photo_outside_the_limits_is_a_400(client: httpx.AsyncClient, data: bytes, code: str) -> None:
    response = await detect_photo(client, data)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert response.json()["request_id"]


async def test_a_photo_of_a_person_passes(client: httpx.AsyncClient, person_photo: bytes) -> None:
    response = await detect_photo(client, person_photo)
    assert response.status_code == 200, response.text
    output = response.json()["output"]
    assert output["check_pass"] is True and output["bodystyle"] in {"full", "half"}
    assert response.json()["usage"] == {"image_count": 1}


async def test_a_picture_with_no_person_is_rejected_one_way_or_the_other(client: httpx.AsyncClient) -> None:
    response = await detect_photo(client, image_bytes(600, 800, "PNG"))
    if response.status_code == 200:
        assert response.json()["output"]["check_pass"] is False and response.json()["output"]["reason"]
    else:
        assert (response.status_code, response.json()["code"]) == (400, "InvalidFile.Content")


@pytest.mark.emulator_only
async def test_size_failures_can_come_as_check_pass_false(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    emulator.controls.configure(RuntimeConfig(detect_limit_failures="check_pass"))
    response = await detect_photo(client, image_bytes(220, 400, "PNG"))
    assert response.status_code == 200
    output = response.json()["output"]
    assert output["check_pass"] is False and output["reason"].startswith("The image resolution is invalid")


@pytest.mark.emulator_only
@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
async def test_metadata_reason_fails_the_check_with_http_200(
    client: httpx.AsyncClient, image_format: str
) -> None:
    photo = make_photo(image_format=image_format, detect_reason="no human detect")
    response = await detect_photo(client, photo)
    assert response.status_code == 200
    assert response.json()["output"] == {"check_pass": False, "bodystyle": "", "reason": "no human detect"}


@pytest.mark.emulator_only
async def test_metadata_code_fails_the_check_with_http_400(client: httpx.AsyncClient) -> None:
    response = await detect_photo(client, make_photo(detect_code="InvalidFile.Content"))
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidFile.Content"


@pytest.mark.emulator_only
async def test_admin_outcome_decides_the_check(client: httpx.AsyncClient) -> None:
    photo = make_photo(width=600, height=700)
    sha = hashlib.sha256(photo).hexdigest()
    assert (await detect_photo(client, photo)).json()["output"]["check_pass"] is True

    outcome = {"sha256": sha, "check_pass": False, "reason": "two people", "code": None}
    assert (await client.post("/admin/detect-outcomes", json=outcome)).status_code == 200
    failed = await detect_photo(client, photo)
    assert failed.status_code == 200
    assert failed.json()["output"] == {"check_pass": False, "bodystyle": "", "reason": "two people"}

    outcome |= {"code": "InvalidFile.BodyPose"}
    await client.post("/admin/detect-outcomes", json=outcome)
    rejected = await detect_photo(client, photo)
    assert (rejected.status_code, rejected.json()["code"]) == (400, "InvalidFile.BodyPose")


@pytest.mark.emulator_only
async def test_a_square_photo_is_half_body(client: httpx.AsyncClient) -> None:
    response = await detect_photo(client, make_photo(width=600, height=600))
    assert response.json()["output"]["bodystyle"] == "half"


async def test_oss_file_uploaded_for_another_model_is_refused(client: httpx.AsyncClient) -> None:
    url = await upload_photo(client, make_photo(), model="animate-anyone-gen2")
    response = await detect(client, url)
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidURL"


async def test_oss_file_of_another_account_is_refused(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    url = await upload_photo(other_client, make_photo(), model=DETECT)
    response = await detect(client, url)
    assert (response.status_code, response.json()["code"]) == (400, "InvalidURL")


async def test_oss_url_without_the_resolve_header_is_refused(client: httpx.AsyncClient) -> None:
    url = await upload_photo(client, make_photo(), model=DETECT)
    response = await detect(client, url, **{"X-DashScope-OssResourceResolve": ""})
    assert (response.status_code, response.json()["code"]) == (400, "InvalidParameter")


async def test_detect_is_synchronous_only(client: httpx.AsyncClient) -> None:
    url = await upload_photo(client, make_photo(), model=DETECT)
    response = await detect(client, url, **{"X-DashScope-Async": "enable"})
    assert (response.status_code, response.json()["code"]) == (403, "AccessDenied")


async def test_bad_api_key_is_401(client: httpx.AsyncClient) -> None:
    response = await detect(client, "https://example.invalid/a.png", Authorization="Bearer nope")
    assert (response.status_code, response.json()["code"]) == (401, "InvalidApiKey")


async def test_missing_image_url_is_invalid_parameter(client: httpx.AsyncClient) -> None:
    response = await client.post(DETECT_PATH, json={"model": DETECT, "input": {}})
    assert (response.status_code, response.json()["code"]) == (400, "InvalidParameter")
    assert "image_url" in response.json()["message"]


@pytest.mark.emulator_only
async def test_https_image_is_downloaded(
    client: httpx.AsyncClient, file_server: tuple[str, dict[str, bytes]]
) -> None:
    base, files = file_server
    files["/me.jpg"] = make_photo(image_format="JPEG")
    response = await detect(client, f"{base}/me.jpg")
    assert response.status_code == 200, response.text
    assert response.json()["output"]["check_pass"] is True

    missing = await detect(client, f"{base}/missing.jpg")
    assert (missing.status_code, missing.json()["code"]) == (400, "InvalidURL")


@pytest.mark.emulator_only
async def test_unreachable_image_host_is_connection_refused(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    response = await detect(client, f"http://127.0.0.1:{port}/me.png")
    assert (response.status_code, response.json()["code"]) == (400, "InvalidURL.ConnectionRefused")
