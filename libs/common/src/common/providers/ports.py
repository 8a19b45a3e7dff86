"""What the pipeline needs from a video provider, in the product's words.

A provider is one adapter module implementing these three ports (`common.providers.dashscope_ports`,
`common.providers.cutout_ports`, over their API clients), registered by name in
`common.providers.registry`; the stages only ever see the ports. A port a provider has no call for still
answers (e.g. cutout.pro has no photo check: its `PhotoCheck` passes every photo, whose documented limits
the gateway already applied).

Errors are `common.providers.errors`: retryable (429, 5xx, timeouts: the stage tries again later),
permanent (the input is wrong: the generation fails with the provider's message), configuration (a wrong
key: an operator must act).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

# A provider job's state in the product's words; each adapter maps its provider's statuses onto these.
JobStatus = Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"]
OutputFormat = Literal["mp4", "gif"]


@dataclass(frozen=True)
class Photo:
    """The product's copy of a photo, as the uploader hands it to a provider's `PhotoStorage`."""

    file_name: str
    content_type: str
    data: bytes  # the bytes (a provider that takes uploads sends them)
    media_key: str | None = None  # its key in the product's media store (one that fetches a link uses it)


@dataclass(frozen=True)
class PlacedPhoto:
    """Where the provider reads the photo: for its photo check, and for its video job."""

    check_url: str
    job_url: str


class PhotoStorage(Protocol):
    async def place(self, photo: Photo) -> PlacedPhoto:
        """Make the photo readable by the provider (an upload, or a signed link of the media store)."""
        ...


@dataclass(frozen=True)
class PhotoVerdict:
    passed: bool
    reason: str  # why not, in words a person can act on ("" when it passed)
    request_id: str | None = None
    bodystyle: str | None = None  # DashScope's "full"/"half" (the original API shows it)


class PhotoCheck(Protocol):
    async def check(self, photo_url: str) -> PhotoVerdict:
        """Whether the provider can animate this photo (a permanent error is a rejection too)."""
        ...


@dataclass(frozen=True)
class JobRequest:
    photo_url: str  # `PlacedPhoto.job_url`
    template_id: str
    output_format: OutputFormat = "mp4"  # "gif": a GIF as well as the MP4 (a provider that can)


@dataclass(frozen=True)
class Job:
    id: str
    status: JobStatus
    request_id: str | None = None
    created_at: datetime | None = None  # when the provider made it (listed jobs)


@dataclass(frozen=True)
class JobState:
    id: str
    status: JobStatus
    provider_status: str  # the provider's own word for it (shown as `taskStatus`)
    request_id: str | None = None
    video_url: str | None = None  # the provider's link to the MP4, once SUCCEEDED
    gif_url: str | None = None
    video_duration: float | None = None  # seconds, when the provider says
    code: str | None = None  # why it FAILED
    message: str | None = None


class VideoJobs(Protocol):
    async def submit(self, request: JobRequest) -> Job:
        """Start a paid job. A retryable error after the request went out leaves its outcome unknown."""
        ...

    async def status(self, job_id: str) -> JobState: ...

    async def cancel(self, job_id: str) -> None:
        """Cancel a job that has not started (a provider that cannot cancel raises a permanent error)."""
        ...

    def billed_seconds(self, template_id: str, state: JobState) -> float | None:
        """What the provider bills for a finished job of this template, in seconds of video."""
        ...

    async def jobs_since(self, since: datetime, until: datetime) -> list[Job] | None:
        """The account's jobs created in [since, until], to find the job of a submission whose outcome
        was unknown; None: this provider cannot list jobs (see the synthesizer for what happens then)."""
        ...
