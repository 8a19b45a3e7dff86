"""cutout.pro's Photo Animer through the whole stack: a template of the second provider from POST to a
playable MP4 and a GIF in the product's media store, billed at the template's clip length; a photo without
a face ends FAILED with the reason; and the provider's completion notice reaches the gateway's callback,
which makes the job due at once."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from tests.e2e.conftest import CUTOUT_CALLBACK_TOKEN
from tests.e2e.images import person_photo
from tests.e2e.test_generation_flow import wait_for_end
from tests.e2e.test_observability import scrape, value, wait_until
from tests.gateway_app import sql

pytestmark = pytest.mark.e2e
WATCHED = (
    "SELECT 1 FROM generations "
    "WHERE id = $1 AND status IN ('PENDING', 'RUNNING') AND next_poll_at IS NOT NULL"
)
POLL_IN_AN_HOUR = "UPDATE generations SET next_poll_at = now() + interval '1 hour' WHERE id = $1"


def generate(gateway_url: str, photo: bytes, template: str, **fields: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{gateway_url}/api/generations",
        files={"file": ("me.png", photo, "image/png")},
        data={"templateId": template, **fields},
    )
    assert answer.status_code == 202, answer.text
    return wait_for_end(gateway_url, answer.headers["location"])


def test_a_cutout_template_makes_a_playable_mp4_and_a_gif_in_the_media_store(gateway_url: str) -> None:
    final = generate(gateway_url, person_photo(), "cutout-2", outputFormat="gif")

    assert final["status"] == "SUCCEEDED", final
    assert (final["provider"], final["outputFormat"], final["billedSeconds"]) == ("cutout", "gif", 2.13)
    assert final["videoUrl"].startswith(f"{gateway_url}/media/videos/")
    video = httpx.get(final["videoUrl"], timeout=30)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(video.content)) as container:
        assert sum(1 for _ in container.decode(video=0)) > 20  # 2.13 s of frames, decodable
    assert final["videoDuration"] == pytest.approx(2.13, abs=0.15)
    gif = httpx.get(final["gifUrl"], timeout=30)
    assert gif.status_code == 200 and gif.headers["content-type"] == "image/gif"
    with Image.open(io.BytesIO(gif.content)) as image:
        assert image.format == "GIF" and image.n_frames > 3
    usage = httpx.get(f"{gateway_url}/api/usage").json()
    assert any(u["provider"] == "cutout" and u["billedSeconds"] >= 2.13 for u in usage)


def test_a_photo_without_a_face_ends_failed_with_the_reason(gateway_url: str) -> None:
    final = generate(gateway_url, person_photo(detect_verdict="no face in this picture"), "cutout-0")
    assert (final["status"], final["provider"]) == ("FAILED", "cutout"), final
    assert final["error"]["code"] == "Cutout.TaskFailed" and "face" in final["error"]["message"]
    assert final["videoUrl"] is None and final["billedSeconds"] is None


def test_completion_arrives_through_the_notice_without_waiting_for_a_poll(
    gateway_url: str, emulator_url: str, e2e_database_url: str
) -> None:
    callback = f"{gateway_url}/api/providers/cutout/callback/{CUTOUT_CALLBACK_TOKEN}"
    config = {"callback_url": callback, "run_seconds": 4}
    assert httpx.put(f"{emulator_url}/admin/cutout/config", json=config).status_code == 200
    before = value(scrape(gateway_url), "dancer_provider_callbacks_total", provider="cutout", outcome="due")
    try:
        answer = httpx.post(
            f"{gateway_url}/api/generations",
            files={"file": ("me.png", person_photo(background=(200, 90, 60)), "image/png")},
            data={"templateId": "cutout-5"},
        )
        assert answer.status_code == 202, answer.text
        generation_id = uuid.UUID(answer.json()["generationId"])

        def watched() -> bool:
            rows = asyncio.run(sql(e2e_database_url, WATCHED, generation_id))
            return bool(rows)

        wait_until(watched, "the poller watches the job", timeout=30)
        # Its next poll an hour away: only the provider's notice can end it now.
        asyncio.run(sql(e2e_database_url, POLL_IN_AN_HOUR, generation_id))
        final = wait_for_end(gateway_url, answer.headers["location"], timeout=20)
    finally:
        httpx.put(f"{emulator_url}/admin/cutout/config", json={"callback_url": "", "run_seconds": 1})
    assert final["status"] == "SUCCEEDED", final
    assert (
        value(scrape(gateway_url), "dancer_provider_callbacks_total", provider="cutout", outcome="due")
        > before
    )
