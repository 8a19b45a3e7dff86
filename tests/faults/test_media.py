"""Results that last: the product's link outlives the provider's, and a provider link that died
before the video was saved ends the generation with a clear status instead of hanging."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.faults.harness import stack

pytestmark = pytest.mark.faults
TTL_SECONDS = 4


def test_a_video_plays_from_its_link_after_the_providers_link_died(tmp_path: Path) -> None:
    with stack(tmp_path, EMULATOR_VIDEO_URL_TTL_SECONDS=str(TTL_SECONDS)) as s:
        kept = s.post(0)
        final = s.wait_all([kept])[kept]
        assert final["status"] == "SUCCEEDED", final

        # The archiver is away while the next video is made, until the provider's link has died.
        s.kill("archiver")
        lost = s.post(1)
        s.wait_until(lambda: s.status(lost)["status"] == "ARCHIVING", timeout=120)
        time.sleep(TTL_SECONDS + 1)
        (provider_url,) = s.sql(f"SELECT provider_video_url FROM generations WHERE id = '{kept}'")[0]
        assert httpx.get(provider_url).status_code == 403  # the provider's link is dead by now

        video = httpx.get(final["videoUrl"], timeout=30)
        assert video.status_code == 200 and video.content[4:8] == b"ftyp"
        poster = httpx.get(final["posterUrl"], timeout=30)
        assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"

        s.start("archiver")
        ended = s.wait_all([lost])[lost]
        assert ended["status"] == "EXPIRED" and ended["error"]["code"] == "VideoLinkExpired", ended
        assert ended["videoUrl"] is None
        (failed,) = s.sql(f"SELECT payload FROM outbox WHERE key = '{lost}' AND topic = 'generation.failed'")
        assert '"retryable": true' in failed[0]
