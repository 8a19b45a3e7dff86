"""cutout.pro Photo Animer behind the product's provider ports (`common.providers.ports`).

- photo storage: none at cutout.pro; it fetches the photo from the product's own signed media link;
- photo check: none either; its documented limits are checked at the door (`photo_limits("cutout")`), and
  a photo without a face fails the job itself;
- video jobs: `submitTaskByUrl` / `getTaskInfo`; no cancel, no job list (see the synthesizer for what an
  unknown submit outcome means then). Templates are the catalogue's `cutout-0` … `cutout-5`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from common.media.links import media_url
from common.providers.cutout import CutoutClient
from common.providers.errors import PermanentProviderError
from common.providers.ports import Job, JobRequest, JobState, JobStatus, Photo, PhotoVerdict, PlacedPhoto

NAME = "cutout"
TEMPLATE_PREFIX = "cutout-"
# The clip length of each template, which is what cutout.pro bills (seconds of video).
CLIP_SECONDS = {"0": 3.13, "1": 7.13, "2": 2.13, "3": 6.75, "4": 4.38, "5": 3.75}
STATUSES: dict[str, JobStatus] = {"0": "RUNNING", "1": "SUCCEEDED", "2": "FAILED"}
NO_VIDEO = "cutout.pro could not animate the photo; is there one clear, frontal face in it?"


def provider_template(template_id: str) -> str:
    """cutout.pro's template number of a catalogue template (`cutout-3` → `3`)."""
    number = template_id.removeprefix(TEMPLATE_PREFIX)
    if number not in CLIP_SECONDS:
        raise PermanentProviderError("UnknownTemplate", f"{template_id!r} is no cutout.pro template.")
    return number


class CutoutPhotoStorage:
    def __init__(self, base_url: str, signing_key: str, link_seconds: float) -> None:
        self._base, self._key, self._seconds = base_url, signing_key, link_seconds

    async def place(self, photo: Photo) -> PlacedPhoto:
        if photo.media_key is None:
            raise PermanentProviderError("MissingImage", "The photo is not in the media store.")
        expires = datetime.now().astimezone() + timedelta(seconds=self._seconds)
        url = media_url(self._base, self._key, photo.media_key, expires)
        return PlacedPhoto(check_url=url, job_url=url)


class CutoutPhotoCheck:
    async def check(self, photo_url: str) -> PhotoVerdict:
        return PhotoVerdict(passed=True, reason="")


class CutoutVideoJobs:
    def __init__(self, client: CutoutClient) -> None:
        self._client = client

    async def submit(self, request: JobRequest) -> Job:
        template = provider_template(request.template_id)
        task_id = await self._client.submit(request.photo_url, template, gif=request.output_format == "gif")
        return Job(task_id, "RUNNING")

    async def status(self, job_id: str) -> JobState:
        data = await self._client.task_info(job_id)
        word = str(data.get("status"))
        status = STATUSES.get(word, "UNKNOWN")
        failed = status == "FAILED"
        return JobState(
            id=job_id,
            status=status,
            provider_status=word,
            video_url=data.get("resultUrl") or None,
            gif_url=data.get("gifUrl") or None,
            code="Cutout.TaskFailed" if failed else None,
            message=str(data.get("msg") or NO_VIDEO) if failed else None,
        )

    async def cancel(self, job_id: str) -> None:
        raise PermanentProviderError("UnsupportedOperation", "cutout.pro cannot cancel a job.")

    def billed_seconds(self, template_id: str, state: JobState) -> float | None:
        return CLIP_SECONDS.get(template_id.removeprefix(TEMPLATE_PREFIX))

    async def jobs_since(self, since: datetime, until: datetime) -> list[Job] | None:
        return None  # cutout.pro lists no jobs
