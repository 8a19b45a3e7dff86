"""DashScope Animate Anyone behind the product's provider ports (`common.providers.ports`).

- photo storage: DashScope's temporary OSS storage, one upload per model that reads the photo (a file
  is bound to the model named in its upload policy);
- photo check: `animate-anyone-detect-gen2`;
- video jobs: `animate-anyone-gen2` tasks; cancel works while PENDING; the task list finds the job of a
  submission whose outcome was unknown.
"""

from __future__ import annotations

from datetime import UTC, datetime

from common.providers.dashscope import DETECT_MODEL, SYNTHESIS_MODEL, DashScopeClient
from common.providers.ports import Job, JobRequest, JobState, JobStatus, Photo, PhotoVerdict, PlacedPhoto

NAME = "dashscope"
STATUSES: dict[str, JobStatus] = {
    "PENDING": "PENDING",
    "SUCCEEDED": "SUCCEEDED",
    "FAILED": "FAILED",
    "CANCELED": "CANCELED",
    "UNKNOWN": "UNKNOWN",
}  # anything else (PRE-PROCESSING, RUNNING, POST-PROCESSING...) is RUNNING


def job_status(task_status: str) -> JobStatus:
    return STATUSES.get(task_status, "RUNNING")


class DashScopePhotoStorage:
    def __init__(self, client: DashScopeClient) -> None:
        self._client = client

    async def place(self, photo: Photo) -> PlacedPhoto:
        check = await self._client.upload(DETECT_MODEL, photo.file_name, photo.data, photo.content_type)
        job = await self._client.upload(SYNTHESIS_MODEL, photo.file_name, photo.data, photo.content_type)
        return PlacedPhoto(check_url=check.url, job_url=job.url)


class DashScopePhotoCheck:
    def __init__(self, client: DashScopeClient) -> None:
        self._client = client

    async def check(self, photo_url: str) -> PhotoVerdict:
        detection = await self._client.detect(photo_url)
        return PhotoVerdict(
            passed=detection.check_pass,
            reason=detection.reason,
            request_id=detection.request_id,
            bodystyle=detection.bodystyle or None,
        )


class DashScopeVideoJobs:
    def __init__(self, client: DashScopeClient) -> None:
        self._client = client

    async def submit(self, request: JobRequest) -> Job:
        task = await self._client.submit_synthesis(request.photo_url, request.template_id)
        return Job(task.task_id, job_status(task.task_status), task.request_id)

    async def status(self, job_id: str) -> JobState:
        info = await self._client.get_task(job_id)
        return JobState(
            id=job_id,
            status=job_status(info.task_status),
            provider_status=info.task_status,
            request_id=info.request_id,
            video_url=info.video_url,
            video_duration=info.video_duration,
            code=info.code,
            message=info.message,
        )

    async def cancel(self, job_id: str) -> None:
        await self._client.cancel_task(job_id)

    def billed_seconds(self, template_id: str, state: JobState) -> float | None:
        return state.video_duration  # DashScope bills per second of output video

    async def jobs_since(self, since: datetime, until: datetime) -> list[Job] | None:
        listed = await self._client.list_tasks(since, until, SYNTHESIS_MODEL)
        return [
            Job(
                t.task_id,
                job_status(t.status),
                created_at=None if t.created_ms is None else datetime.fromtimestamp(t.created_ms / 1000, UTC),
            )
            for t in listed
        ]
