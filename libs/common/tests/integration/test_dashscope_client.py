"""The product's DashScope client against the emulator: the two sides of the contract agree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from common.db.rate_limits import AccountRates
from common.db.session import make_engine, make_sessionmaker
from common.providers.dashscope import DETECT_MODEL, SYNTHESIS_MODEL, DashScopeClient, Pace
from common.providers.errors import (
    PermanentProviderError,
    ProviderConfigurationError,
    RetryableProviderError,
)
from emulators.app import create_app
from emulators.settings import EmulatorSettings
from emulators.testing import make_photo
from pydantic import SecretStr

pytestmark = pytest.mark.integration
BASE = "http://emulator.test"
TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = EmulatorSettings(
        public_url=BASE,
        data_dir=tmp_path,
        pending_seconds=0,
        preprocess_seconds=0.05,
        run_seconds=0.1,
        postprocess_seconds=0.05,
        video_seconds=1,
    )
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client
    await app.state.emulator.scheduler.close()


def _client(http: httpx.AsyncClient, key: str = "sk-it") -> DashScopeClient:
    return DashScopeClient(http, SecretStr(key), f"{BASE}/api/v1", backoff_seconds=0.01)


def _tried_once(http: httpx.AsyncClient, pace: Pace | None = None) -> DashScopeClient:
    """A client as the stages use it: one attempt per call, a 429 raised."""
    return DashScopeClient(http, SecretStr("sk-it"), f"{BASE}/api/v1", attempts=1, pace=pace)


async def test_uploaded_photo_is_detected_and_animated(http: httpx.AsyncClient) -> None:
    client = _client(http)
    photo = make_photo()
    for_detect = await client.upload(DETECT_MODEL, "me.png", photo, "image/png")
    for_video = await client.upload(SYNTHESIS_MODEL, "me.png", photo, "image/png")
    assert for_detect.url.startswith("oss://") and for_detect.url != for_video.url

    detection = await client.detect(for_detect.url)
    assert detection.check_pass and detection.bodystyle in {"full", "half"} and detection.request_id

    task = await client.submit_synthesis(for_video.url, TEMPLATE)
    assert task.task_status == "PENDING"
    for _ in range(100):
        info = await client.get_task(task.task_id)
        if info.task_status == "SUCCEEDED":
            break
        await asyncio.sleep(0.05)
    assert info.task_status == "SUCCEEDED" and info.video_url and info.video_duration


async def test_detection_failure_keeps_the_providers_reason(http: httpx.AsyncClient) -> None:
    client = _client(http)
    uploaded = await client.upload(
        DETECT_MODEL, "x.png", make_photo(detect_reason="no human detect"), "image/png"
    )
    detection = await client.detect(uploaded.url)
    assert (detection.check_pass, detection.reason) == (False, "no human detect")


async def test_photo_refused_with_400_raises_a_permanent_error_with_code_and_request_id(
    http: httpx.AsyncClient,
) -> None:
    client = _client(http)
    uploaded = await client.upload(DETECT_MODEL, "wide.png", make_photo(900, 300), "image/png")
    with pytest.raises(PermanentProviderError) as err:
        await client.detect(uploaded.url)
    assert err.value.code == "InvalidFile.AspectRatio" and err.value.status == 400 and err.value.request_id


async def test_a_bad_api_key_is_a_configuration_error(http: httpx.AsyncClient) -> None:
    with pytest.raises(ProviderConfigurationError) as err:
        await _client(http, key="not-a-key").get_task("t-1")
    assert err.value.code == "InvalidApiKey" and err.value.status == 401


async def test_cancel_only_works_while_the_task_waits(http: httpx.AsyncClient) -> None:
    client = _client(http)
    url = (await client.upload(SYNTHESIS_MODEL, "me.png", make_photo(), "image/png")).url
    first = await client.submit_synthesis(url, TEMPLATE)
    second = await client.submit_synthesis(url, TEMPLATE)  # one job at a time: this one waits
    await client.cancel_task(second.task_id)
    assert (await client.get_task(second.task_id)).task_status == "CANCELED"
    for _ in range(200):  # wait until the first job leaves the queue
        if (await client.get_task(first.task_id)).task_status != "PENDING":
            break
        await asyncio.sleep(0.02)
    with pytest.raises(PermanentProviderError) as err:
        await client.cancel_task(first.task_id)
    assert err.value.code == "UnsupportedOperation"


async def test_two_paced_replicas_together_stay_under_the_detection_quota(
    http: httpx.AsyncClient, database_url: str
) -> None:
    engine = make_engine(database_url)
    replicas = [
        _tried_once(http, AccountRates(make_sessionmaker(engine), {"detect": 4.0}, "dashscope"))
        for _ in range(2)
    ]
    url = (await replicas[0].upload(DETECT_MODEL, "me.png", make_photo(), "image/png")).url
    # The emulator allows DashScope's 5 detections/s; 10 at once from two replicas, each tried once.
    detections = await asyncio.gather(*(replicas[i % 2].detect(url) for i in range(10)))
    await engine.dispose()
    assert all(d.check_pass for d in detections)

    unpaced = _tried_once(http)
    with pytest.raises(RetryableProviderError) as err:
        await asyncio.gather(*(unpaced.detect(url) for _ in range(10)))
    assert err.value.status == 429 and err.value.code.startswith("Throttling")
