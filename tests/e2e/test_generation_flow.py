"""The whole product through its public API: every service is its own process on real infrastructure."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import av
import httpx
import numpy as np
import pytest

from tests.e2e.images import mean_colour, person_photo
from tests.gateway_app import sql_count

pytestmark = pytest.mark.e2e
TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "TIMED_OUT", "EXPIRED"}


def wait_for_end(gateway: str, location: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        body: dict[str, Any] = httpx.get(f"{gateway}{location}", timeout=10).json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] in TERMINAL:
            body["seen"] = seen
            return body
        time.sleep(0.3)
    raise AssertionError(f"{location} still {seen} after {timeout}s")


def test_templates_come_from_the_database(gateway_url: str) -> None:
    templates = httpx.get(f"{gateway_url}/api/generation/templates").json()
    by_provider = {t["templateId"]: t["provider"] for t in templates}
    assert by_provider[TEMPLATE] == "dashscope"
    assert all(i.startswith("AACT.") for i, p in by_provider.items() if p == "dashscope")
    assert {i for i, p in by_provider.items() if p == "cutout"} == {f"cutout-{n}" for n in range(6)}
    assert all(t["name"] for t in templates)


def test_uploaded_photo_becomes_a_playable_video_of_that_photo(gateway_url: str) -> None:
    photo = person_photo()
    answer = httpx.post(
        f"{gateway_url}/api/generations",
        files={"file": ("me.png", photo, "image/png")},
        data={"templateId": TEMPLATE, "email": "me@example.com"},
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "QUEUED"
    assert answer.headers["location"] == f"/api/generations/{body['generationId']}"

    final = wait_for_end(gateway_url, answer.headers["location"])

    assert final["status"] == "SUCCEEDED", final
    assert final["taskId"] and final["detection"]["checkPass"] is True
    assert final["uploadedAt"] and final["detectedAt"] and final["submittedAt"] and final["finishedAt"]
    # The product's own copy, behind its own signed link, with a poster and an expiry.
    assert final["videoUrl"].startswith(f"{gateway_url}/media/videos/") and final["media"] == "AVAILABLE"
    assert final["videoExpiresAt"] and final["videoDuration"] and final["provider"] == "dashscope"
    assert httpx.get(final["posterUrl"], timeout=30).content[:2] == b"\xff\xd8"
    video = httpx.get(final["videoUrl"], timeout=30)
    assert video.status_code == 200 and video.headers["content-type"].startswith("video/mp4")
    with av.open(io.BytesIO(video.content)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) > 1
    video_mean = np.mean([f.reshape(-1, 3).mean(axis=0) for f in frames], axis=0)
    assert np.abs(video_mean - np.array(mean_colour(photo))).max() < 40, (video_mean, mean_colour(photo))


def test_photo_the_detector_rejects_fails_with_the_providers_reason(gateway_url: str) -> None:
    reason = "The input image contains no person or multiple people."
    answer = httpx.post(
        f"{gateway_url}/api/generations",
        files={"file": ("crowd.png", person_photo(detect_verdict=reason), "image/png")},
        data={"templateId": TEMPLATE},
    )
    assert answer.status_code == 202, answer.text

    final = wait_for_end(gateway_url, answer.headers["location"])

    assert final["status"] == "FAILED"
    assert final["message"] == reason and final["error"]["message"] == reason
    assert final["detection"] == {"checkPass": False, "bodystyle": None, "reason": reason}
    assert final["taskId"] is None and final["videoUrl"] is None


def test_json_form_with_an_uploaded_photos_oss_url_makes_a_video(gateway_url: str) -> None:
    uploaded = httpx.post(
        f"{gateway_url}/api/uploads/image", files={"file": ("me.png", person_photo((600, 900)), "image/png")}
    )
    assert uploaded.status_code == 200, uploaded.text
    asset = uploaded.json()
    assert asset["fileName"] == "me.png" and asset["assetId"]

    answer = httpx.post(
        f"{gateway_url}/api/generations", json={"templateId": TEMPLATE, "ossUrl": asset["ossUrl"]}
    )
    assert answer.status_code == 202, answer.text

    final = wait_for_end(gateway_url, answer.headers["location"])
    assert final["status"] == "SUCCEEDED", final
    assert httpx.get(final["videoUrl"]).content[4:8] == b"ftyp"


def test_unknown_template_is_refused_and_nothing_is_queued(gateway_url: str, e2e_database_url: str) -> None:
    before = _count_generations(e2e_database_url)
    answer = httpx.post(
        f"{gateway_url}/api/generations",
        files={"file": ("me.png", person_photo(), "image/png")},
        data={"templateId": "AACT.nope.nope"},
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "UnknownTemplate" and "AACT.nope.nope" in answer.json()["detail"]
    assert _count_generations(e2e_database_url) == before


def test_a_file_that_is_not_an_image_is_refused(gateway_url: str) -> None:
    answer = httpx.post(
        f"{gateway_url}/api/generations",
        files={"file": ("cv.pdf", b"%PDF-1.4 ...", "application/pdf")},
        data={"templateId": TEMPLATE},
    )
    assert answer.status_code == 415
    assert answer.json()["code"] == "UnsupportedFileType"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"ossUrl": "asset://4b0c0b6e-4a7c-4bb6-9c4d-000000000000"}, "InvalidRequest"),
        ({"templateId": TEMPLATE}, "MissingImage"),
        ({"templateId": TEMPLATE, "ossUrl": "asset://4b0c0b6e-4a7c-4bb6-9c4d-000000000000"}, "UnknownAsset"),
        ({"templateId": TEMPLATE, "ossUrl": "ftp://x/y.png"}, "InvalidImageUrl"),
    ],
)
def test_malformed_json_requests_get_a_clear_error(gateway_url: str, body: dict[str, str], code: str) -> None:
    answer = httpx.post(f"{gateway_url}/api/generations", json=body)
    assert 400 <= answer.status_code < 500
    assert answer.json()["code"] == code and answer.json()["detail"]


def test_unknown_generation_is_404(gateway_url: str) -> None:
    answer = httpx.get(f"{gateway_url}/api/generations/4b0c0b6e-4a7c-4bb6-9c4d-000000000000")
    assert answer.status_code == 404 and answer.json()["code"] == "GenerationNotFound"


def _count_generations(database_url: str) -> int:
    return asyncio.run(sql_count(database_url, "select count(*) from generations"))
