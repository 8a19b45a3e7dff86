"""DashScope behind the product's provider ports: what each port asks of DashScope's API."""

from __future__ import annotations

from datetime import UTC, datetime

from common.providers.dashscope import (
    DETECT_MODEL,
    SYNTHESIS_MODEL,
    Detection,
    ListedTask,
    SubmittedTask,
    TaskInfo,
    Uploaded,
)
from common.providers.dashscope_ports import DashScopePhotoCheck, DashScopePhotoStorage, DashScopeVideoJobs
from common.providers.ports import Job, JobRequest, Photo


class FakeDashScope:
    """DashScope's API as the adapters call it, recording the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    async def upload(self, model: str, file_name: str, data: bytes, content_type: str) -> Uploaded:
        self.calls.append(("upload", model, data))
        return Uploaded(url=f"oss://dir/{model}/{file_name}", model=model)

    async def detect(self, image_url: str) -> Detection:
        self.calls.append(("detect", image_url))
        return Detection(False, "", "no human detect", "req-1")

    async def submit_synthesis(self, image_url: str, template_id: str) -> SubmittedTask:
        self.calls.append(("submit", image_url, template_id))
        return SubmittedTask("t-1", "PENDING", "req-2")

    async def get_task(self, task_id: str) -> TaskInfo:
        return TaskInfo(task_id, "POST-PROCESSING", "req-3")

    async def list_tasks(self, start: datetime, end: datetime, model_name: str) -> list[ListedTask]:
        self.calls.append(("list", model_name))
        return [
            ListedTask("t-9", "RUNNING", model_name, 1_767_225_600_000),
            ListedTask("t-8", "X", None, None),
        ]


async def test_the_photo_is_uploaded_once_for_each_model_that_reads_it() -> None:
    api = FakeDashScope()
    placed = await DashScopePhotoStorage(api).place(Photo("me.png", "image/png", b"abc"))  # type: ignore[arg-type]
    assert api.calls == [("upload", DETECT_MODEL, b"abc"), ("upload", SYNTHESIS_MODEL, b"abc")]
    assert (placed.check_url, placed.job_url) == (
        f"oss://dir/{DETECT_MODEL}/me.png",
        f"oss://dir/{SYNTHESIS_MODEL}/me.png",
    )


async def test_the_check_is_detection_and_its_reason_is_kept() -> None:
    verdict = await DashScopePhotoCheck(FakeDashScope()).check("oss://d")  # type: ignore[arg-type]
    assert (verdict.passed, verdict.reason, verdict.request_id, verdict.bodystyle) == (
        False,
        "no human detect",
        "req-1",
        None,
    )


async def test_jobs_map_dashscope_statuses_to_the_products() -> None:
    api = FakeDashScope()
    jobs = DashScopeVideoJobs(api)  # type: ignore[arg-type]
    assert await jobs.submit(JobRequest("oss://s", "AACT.x")) == Job("t-1", "PENDING", "req-2")
    assert api.calls[-1] == ("submit", "oss://s", "AACT.x")
    state = await jobs.status("t-1")
    assert (state.status, state.provider_status) == ("RUNNING", "POST-PROCESSING")
    listed = await jobs.jobs_since(datetime.now(UTC), datetime.now(UTC))
    assert listed == [
        Job("t-9", "RUNNING", created_at=datetime(2026, 1, 1, tzinfo=UTC)),
        Job("t-8", "RUNNING", created_at=None),
    ]
    assert api.calls[-1] == ("list", SYNTHESIS_MODEL)
