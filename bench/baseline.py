"""The same generations done the way a user would without this product: the official `dashscope`
SDK in a thread pool, one photo per thread: upload, detect, submit, wait. The SDK does not retry a
429 (dashscope.md says to), so each call is retried after a second, as a careful user would."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path
from typing import Any

import dashscope
from dashscope.client.base_api import BaseApi, BaseAsyncApi
from dashscope.utils.oss_utils import check_and_upload_local

KEY = "sk-emulator"
TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
RESOLVE = {"X-DashScope-OssResourceResolve": "enable"}
IMAGE2VIDEO = {"task_group": "aigc", "task": "image2video"}


def _until_not_throttled(call: Any) -> Any:
    while True:
        answer = call()
        if answer.status_code != HTTPStatus.TOO_MANY_REQUESTS:
            return answer
        time.sleep(1)


def _upload(model: str, path: Path) -> str:
    while True:
        try:
            _, url, _ = check_and_upload_local(model, f"file://{path}", KEY)
            return str(url)
        except Exception:  # the SDK raises on a throttled policy request
            time.sleep(1)


def one_generation(path: Path) -> tuple[str, float]:
    """Returns the task id and when its result was in the user's hands (epoch seconds)."""
    detect_url = _upload("animate-anyone-detect-gen2", path)
    detection = _until_not_throttled(
        lambda: BaseApi.call(
            model="animate-anyone-detect-gen2",
            input={"image_url": detect_url},
            function="aa-detect",
            api_key=KEY,
            headers=RESOLVE,
            **IMAGE2VIDEO,
        )
    )
    assert detection.output["check_pass"], detection
    image_url = _upload("animate-anyone-gen2", path)
    task = _until_not_throttled(
        lambda: BaseAsyncApi.async_call(
            model="animate-anyone-gen2",
            input={"image_url": image_url, "template_id": TEMPLATE},
            function="video-synthesis",
            api_key=KEY,
            headers=RESOLVE,
            **IMAGE2VIDEO,
        )
    )
    task_id = task.output["task_id"]
    while True:  # wait() polls 1 s, doubling every 3 polls up to 5 s; it gives up on a 429
        result = BaseAsyncApi.wait(task_id, api_key=KEY)
        if result.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            time.sleep(1)
            continue
        assert result.output["task_status"] == "SUCCEEDED", result
        return task_id, time.time()


def run(base_url: str, photos: list[Path], threads: int) -> dict[str, float]:
    """Task id → when it was done, for every photo."""
    dashscope.base_http_api_url = f"{base_url}/api/v1"
    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(one_generation, photos))
