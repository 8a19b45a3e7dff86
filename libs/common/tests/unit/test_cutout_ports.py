"""cutout.pro behind the product's ports, over a stand-in of its HTTP API (httpx.MockTransport): the
envelope, what each error means for the pipeline, the statuses, templates, GIFs and the photo link."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from common.media.links import verify
from common.providers.cutout import CutoutClient
from common.providers.cutout_ports import CutoutPhotoStorage, CutoutVideoJobs, provider_template
from common.providers.errors import PermanentProviderError, ProviderConfigurationError, RetryableProviderError
from common.providers.ports import JobRequest, Photo
from pydantic import SecretStr

KEY = "cutout-key-never-shown-123"
BASE = "https://cutout.test/api/v1"


def jobs(
    answer: Callable[[httpx.Request], httpx.Response], paced: list[str] | None = None
) -> CutoutVideoJobs:
    async def pace(quota: str) -> None:
        (paced if paced is not None else []).append(quota)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return CutoutVideoJobs(CutoutClient(http, SecretStr(KEY), BASE, pace=pace))


def envelope(data: object, code: int = 0, msg: str | None = None, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "data": data, "msg": msg, "time": 1615368038661})


async def test_a_submit_sends_the_photo_link_template_and_gif_wish_with_the_key() -> None:
    seen: list[httpx.Request] = []
    paced: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return envelope(123456)

    job = await jobs(answer, paced).submit(JobRequest("https://me.test/p.png", "cutout-3", "gif"))
    assert (job.id, job.status) == ("123456", "RUNNING")
    [request] = seen
    assert request.url.path == "/api/v1/faceDriven/submitTaskByUrl" and request.headers["APIKEY"] == KEY
    assert dict(request.url.params) == {
        "imageUrl": "https://me.test/p.png",
        "templateId": "3",
        "outputFormat": "gif",
    }
    assert paced == ["submit"]


@pytest.mark.parametrize(
    ("data", "status", "video", "gif"),
    [
        ({"taskId": 1, "status": 0}, "RUNNING", None, None),
        (
            {"taskId": 1, "status": 1, "resultUrl": "https://r/v.mp4", "gifUrl": "https://r/v.gif"},
            "SUCCEEDED",
            "https://r/v.mp4",
            "https://r/v.gif",
        ),
        ({"taskId": 1, "status": 2}, "FAILED", None, None),
        ({"taskId": 1, "status": 7}, "UNKNOWN", None, None),
    ],
)
async def test_statuses_0_1_2_are_the_products(
    data: dict[str, object], status: str, video: str | None, gif: str | None
) -> None:
    state = await jobs(lambda r: envelope(data)).status("1")
    assert (state.status, state.video_url, state.gif_url, state.provider_status) == (
        status,
        video,
        gif,
        str(data["status"]),
    )
    if status == "FAILED":
        assert state.code == "Cutout.TaskFailed" and state.message and "face" in state.message


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(429, text="slow down"), RetryableProviderError),
        (httpx.Response(502, text="bad gateway"), RetryableProviderError),
        (httpx.Response(200, text="<html>maintenance</html>"), RetryableProviderError),
        (
            httpx.Response(401, json={"code": 401, "msg": "invalid api key", "data": None}),
            ProviderConfigurationError,
        ),
        (envelope(None, code=4004, msg="image url can not be accessed"), PermanentProviderError),
    ],
)
async def test_errors_say_what_the_pipeline_should_do(
    response: httpx.Response, error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        await jobs(lambda r: response).status("1")
    assert KEY not in str(raised.value)
    if error is PermanentProviderError:
        assert str(raised.value) == "Cutout.4004: image url can not be accessed"


async def test_no_answer_at_all_is_retryable() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("no route", request=request)

    with pytest.raises(RetryableProviderError):
        await jobs(answer).submit(JobRequest("https://me.test/p.png", "cutout-0"))


async def test_templates_bills_and_what_cutout_cannot_do() -> None:
    video_jobs = jobs(lambda r: envelope(None))
    assert provider_template("cutout-5") == "5"
    with pytest.raises(PermanentProviderError):
        provider_template("AACT.x")
    state = await jobs(lambda r: envelope({"status": 1, "resultUrl": "https://r/v.mp4"})).status("9")
    assert video_jobs.billed_seconds("cutout-1", state) == 7.13
    assert await video_jobs.jobs_since(None, None) is None  # type: ignore[arg-type]
    with pytest.raises(PermanentProviderError):
        await video_jobs.cancel("9")


async def test_the_photo_is_handed_over_as_a_signed_expiring_link_of_the_media_store() -> None:
    storage = CutoutPhotoStorage("https://dancer.test", "signing-key", link_seconds=600)
    placed = await storage.place(Photo("me.png", "image/png", b"", media_key="photos/abc.png"))
    url = httpx.URL(placed.job_url)
    assert placed.check_url == placed.job_url and str(url).startswith(
        "https://dancer.test/media/photos/abc.png?"
    )
    expires = int(url.params["expires"])
    assert verify("signing-key", "photos/abc.png", expires, url.params["signature"], now=expires - 599)
    with pytest.raises(PermanentProviderError):
        await storage.place(Photo("me.png", "image/png", b"abc"))  # no media key: nothing to link to
