"""What cutout.pro's emulator refuses, each as an envelope with the emulator's code, HTTP status and a clear
`msg`: the key (and accounts), the parameters, the photo's documented limits, a photo it cannot fetch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from emulators.settings import EmulatorSettings
from emulators.testing import first_half, make_photo, noise_image, png_claiming
from emulators.testing.cutout import API, Files, serving, settings_in, submit_cutout, wait_for_cutout

pytestmark = pytest.mark.emulator_only
KEY = "cutout-test-key"


@pytest.fixture
def settings(tmp_path: Path) -> EmulatorSettings:
    return settings_in(tmp_path / "data", quotas="off")  # many submits in a row here


async def call(api: httpx.AsyncClient, name: str, key: str | None = KEY, **params: Any) -> tuple[int, Any]:
    headers = {"APIKEY": key} if key is not None else {}
    answer = await api.get(f"{API}/{name}", params=params, headers=headers)
    body = answer.json()
    assert set(body) == {"code", "data", "msg", "time"}, body
    return answer.status_code, body


def refused(answer: tuple[int, Any]) -> tuple[int, int]:
    status, body = answer
    assert body["data"] is None and isinstance(body["msg"], str) and body["msg"], body
    return status, body["code"]


async def test_a_missing_key_is_refused_and_any_other_key_is_its_own_account(
    api: httpx.AsyncClient, web: Files
) -> None:
    photo = web.serve("me.png", make_photo())
    for key in (None, ""):
        assert refused(await call(api, "submitTaskByUrl", key, imageUrl=photo, templateId=0)) == (401, 401)
        assert refused(await call(api, "getTaskInfo", key, taskId=1)) == (401, 401)
    task_id = await submit_cutout(api, "key-a", photo)
    assert (await call(api, "getTaskInfo", "key-a", taskId=task_id))[1]["code"] == 0
    assert refused(await call(api, "getTaskInfo", "key-b", taskId=task_id)) == (404, 4040)


async def test_configured_accounts_group_keys_and_refuse_the_rest(tmp_path: Path, web: Files) -> None:
    accounts = '{"acct-1": ["k1", "k2"], "acct-2": ["k3"]}'
    settings = EmulatorSettings(data_dir=tmp_path / "data", accounts=accounts, cutout_run_seconds=0.1)
    async with serving(settings) as api:
        task_id = await submit_cutout(api, "k1", web.serve("me.png", make_photo()))
        assert (await wait_for_cutout(api, "k2", task_id))["status"] == 1  # the same account
        assert refused(await call(api, "getTaskInfo", "k3", taskId=task_id)) == (404, 4040)
        assert refused(await call(api, "getTaskInfo", "unknown", taskId=task_id)) == (401, 401)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"templateId": 0}, "imageUrl is required"),
        ({"imageUrl": "PHOTO"}, "templateId"),
        ({"imageUrl": "PHOTO", "templateId": 6}, "templateId"),
        ({"imageUrl": "PHOTO", "templateId": "1.0"}, "templateId"),
        ({"imageUrl": "PHOTO", "templateId": 1, "voiceUrl": "VOICE"}, "voiceUrl"),
        ({"imageUrl": "PHOTO", "templateId": 0, "outputFormat": "webm"}, "outputFormat"),
        ({"imageUrl": "PHOTO", "templateId": 0, "isHd": "maybe"}, "isHd"),
    ],
)
async def test_bad_parameters_are_4005(
    api: httpx.AsyncClient, web: Files, params: dict[str, Any], words: str
) -> None:
    urls = {"PHOTO": web.serve("me.png", make_photo()), "VOICE": web.serve("a.mp3", b"ID3")}
    status, body = await call(api, "submitTaskByUrl", **{k: urls.get(str(v), v) for k, v in params.items()})
    assert refused((status, body)) == (400, 4005) and words in body["msg"]


async def test_inputs_it_cannot_fetch_are_4004_with_the_reason(
    tmp_path: Path, api: httpx.AsyncClient, web: Files
) -> None:
    for url, words in (
        ("ftp://example.com/me.png", "http(s) URL"),
        (f"{web.url}/missing.png", "HTTP 404"),
        ("http://127.0.0.1:9/me.png", "refused"),
    ):
        status, body = await call(api, "submitTaskByUrl", imageUrl=url, templateId=0)
        assert refused((status, body)) == (400, 4004) and words in body["msg"], body
    photo, voice = web.serve("me.png", make_photo()), f"{web.url}/missing.mp3"
    status, body = await call(api, "submitTaskByUrl", imageUrl=photo, templateId=0, voiceUrl=voice)
    assert refused((status, body)) == (400, 4004) and "voiceUrl" in body["msg"]

    web.delays["/slow.png"] = 3
    async with serving(EmulatorSettings(data_dir=tmp_path / "quick", download_timeout_seconds=0.5)) as quick:
        slow = web.serve("slow.png", make_photo())
        status, body = await call(quick, "submitTaskByUrl", imageUrl=slow, templateId=0)
    assert refused((status, body)) == (400, 4004) and "timed out after 0.5 s" in body["msg"]


async def test_the_documented_photo_limits(api: httpx.AsyncClient, web: Files) -> None:
    cases = [
        ("text.png", b"not an image at all", 4001),
        ("anim.gif", make_photo(300, 300, image_format="GIF"), 4001),
        ("cut.png", first_half(noise_image((300, 300))), 4001),
        ("wide.png", make_photo(4097, 300), 4003),
        ("bomb.png", png_claiming(60000, 60000), 4003),
        ("huge.png", noise_image((2400, 2400)), 4002),  # about 17 MB of incompressible pixels
    ]
    for name, data, code in cases:
        answer = await call(api, "submitTaskByUrl", imageUrl=web.serve(name, data), templateId=0)
        assert refused(answer) == (400, code), (name, answer)
    for name, data in (("max.png", make_photo(4096, 300)), ("photo.webp", make_photo(image_format="WEBP"))):
        status, body = await call(api, "submitTaskByUrl", imageUrl=web.serve(name, data), templateId=0)
        assert status == 200 and body["code"] == 0, (name, body)


async def test_querying_needs_a_task_id_of_ones_own(api: httpx.AsyncClient) -> None:
    assert refused(await call(api, "getTaskInfo")) == (400, 4005)
    assert refused(await call(api, "getTaskInfo", taskId="abc")) == (400, 4005)
    assert refused(await call(api, "getTaskInfo", taskId=99)) == (404, 4040)
