"""The official `dashscope` SDK, pointed at the emulator, uploads a file and runs a synthesis.

An independent client agreeing with the emulator is evidence the contract is right. The SDK has no
Animate Anyone class, so this uses its generic calls the way Alibaba's own samples do: the upload
helper behind `file://` inputs (getPolicy + OSS form), `BaseApi.call` for the synchronous detection
and `BaseAsyncApi` for the async submit, `wait`, `list` and `cancel`.
"""

from __future__ import annotations

import time
from http import HTTPStatus
from pathlib import Path

import dashscope
import httpx
import pytest
from dashscope.client.base_api import BaseApi, BaseAsyncApi
from dashscope.utils.oss_utils import check_and_upload_local
from emulators.testing import make_photo

pytestmark = pytest.mark.emulator_only
KEY = "sk-sdk-test"
TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
RESOLVE = {"X-DashScope-OssResourceResolve": "enable"}
SYNTHESIS = {"task_group": "aigc", "task": "image2video", "function": "video-synthesis"}


@pytest.fixture
def sdk_base_url(server_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(dashscope, "base_http_api_url", f"{server_url}/api/v1")
    return server_url


def upload(model: str, path: Path) -> str:
    uploaded, url, _ = check_and_upload_local(model, f"file://{path}", KEY)
    assert uploaded and url.startswith("oss://")
    return str(url)


def test_the_sdk_uploads_detects_and_animates_a_photo(sdk_base_url: str, tmp_path: Path) -> None:
    photo = tmp_path / "me.png"
    photo.write_bytes(make_photo())

    detect_url = upload("animate-anyone-detect-gen2", photo)
    detection = BaseApi.call(
        model="animate-anyone-detect-gen2",
        input={"image_url": detect_url},
        task_group="aigc",
        task="image2video",
        function="aa-detect",
        api_key=KEY,
        headers=RESOLVE,
    )
    assert detection.status_code == HTTPStatus.OK, detection
    assert detection.output["check_pass"] is True and detection.request_id

    image_url = upload("animate-anyone-gen2", photo)
    task = BaseAsyncApi.async_call(
        model="animate-anyone-gen2",
        input={"image_url": image_url, "template_id": TEMPLATE},
        api_key=KEY,
        headers=RESOLVE,
        use_ref_img_bg=True,
        video_ratio="3:4",
        **SYNTHESIS,
    )
    assert task.status_code == HTTPStatus.OK, task
    assert task.output["task_status"] == "PENDING"

    result = BaseAsyncApi.wait(task, api_key=KEY)
    assert result.status_code == HTTPStatus.OK
    assert result.output["task_status"] == "SUCCEEDED", result
    assert result.output["video_url"].startswith(f"{sdk_base_url}/videos/")
    assert result.usage["video_ratio"] == "3:4" and result.usage["video_duration"] == 2

    listed = BaseAsyncApi.list(api_key=KEY, model_name="animate-anyone-gen2", page_size=5)
    assert listed.status_code == HTTPStatus.OK
    assert listed.output["total"] == 1 and listed.output["data"][0]["task_id"] == task.output["task_id"]


def test_the_sdk_cancels_a_waiting_task_and_reads_errors(sdk_base_url: str, tmp_path: Path) -> None:
    photo = tmp_path / "me.png"
    photo.write_bytes(make_photo())
    image_url = upload("animate-anyone-gen2", photo)
    body = {"image_url": image_url, "template_id": TEMPLATE}
    first = BaseAsyncApi.async_call(
        model="animate-anyone-gen2", input=body, api_key=KEY, headers=RESOLVE, **SYNTHESIS
    )
    second = BaseAsyncApi.async_call(
        model="animate-anyone-gen2", input=body, api_key=KEY, headers=RESOLVE, **SYNTHESIS
    )
    assert BaseAsyncApi.cancel(second, api_key=KEY).status_code == HTTPStatus.OK
    assert BaseAsyncApi.fetch(second, api_key=KEY).output["task_status"] == "CANCELED"
    while BaseAsyncApi.fetch(first, api_key=KEY).output["task_status"] == "PENDING":
        time.sleep(0.05)
    refused = BaseAsyncApi.cancel(first, api_key=KEY)
    assert refused.status_code == HTTPStatus.BAD_REQUEST and refused.code == "UnsupportedOperation"

    # Another account: this one has spent its submit quota (1/s, bursts of 2) and the SDK does not retry.
    bad = BaseAsyncApi.async_call(
        model="animate-anyone-gen2",
        input=body | {"template_id": "AACT.nope"},
        api_key="sk-sdk-other",
        headers=RESOLVE,
        **SYNTHESIS,
    )
    assert (bad.status_code, bad.code) == (HTTPStatus.BAD_REQUEST, "InvalidFile.Template.Content")
    assert bad.request_id and bad.message


def test_the_sdk_wait_gives_up_on_a_429_unlike_dashscope_md_advises(sdk_base_url: str) -> None:
    faults = {"faults": {"GET /api/v1/tasks/{task_id}": {"p429": 1.0}}}
    httpx.put(f"{sdk_base_url}/admin/config", json=faults).raise_for_status()
    started = time.monotonic()
    answer = BaseAsyncApi.wait("some-task", api_key=KEY)
    assert (answer.status_code, answer.code) == (HTTPStatus.TOO_MANY_REQUESTS, "Throttling")
    assert time.monotonic() - started < 1, "no retry"
