"""Event contracts: frozen, past tense, tolerant of unknown fields, additive only.

Every event carries the generation id, which is also its Kafka key, so one generation's
events stay in order on one partition.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, Literal, NewType
from uuid import UUID

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from common import topics

GenerationId = NewType("GenerationId", UUID)
ATTEMPT_DESCRIPTION = (
    "0 for the generation's first run; n once an operator has sent it through the pipeline again n "
    "times. Each run's request and outcome are new facts, with their own `ce_id`."
)


def _now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    topic: ClassVar[str]

    generation_id: UUID
    occurred_at: datetime = Field(default_factory=_now)


class GenerationRequested(Event):
    """A client asked for a video; the photo is a stored asset or a URL the client gave."""

    topic = topics.GENERATION_REQUESTED
    template_id: str
    asset_id: UUID | None = None
    image_url: str | None = None
    attempt: int = Field(default=0, ge=0, description=ATTEMPT_DESCRIPTION)


class ImageUploaded(Event):
    """The photo is readable by the provider: where its photo check and its video job read it."""

    topic = topics.IMAGE_UPLOADED
    template_id: str
    # Before 0009 these were DashScope's `detect_image_url` and `synthesis_image_url`: still read.
    check_image_url: str = Field(validation_alias=AliasChoices("check_image_url", "detect_image_url"))
    job_image_url: str = Field(validation_alias=AliasChoices("job_image_url", "synthesis_image_url"))


class ImageAccepted(Event):
    """The provider's photo check passed the photo (a provider without one passes every photo)."""

    topic = topics.IMAGE_ACCEPTED
    template_id: str
    job_image_url: str = Field(validation_alias=AliasChoices("job_image_url", "synthesis_image_url"))
    bodystyle: str = ""  # DashScope's "full"/"half"


class SynthesisSubmitted(Event):
    """The provider accepted a paid synthesis job."""

    topic = topics.SYNTHESIS_SUBMITTED
    task_id: str


class VideoRendered(Event):
    """The provider made the video; the archiver copies it into the media store before success."""

    topic = topics.VIDEO_RENDERED
    task_id: str
    provider_video_url: str
    video_duration: float | None = None
    provider_gif_url: str | None = None  # when the generation asked for a GIF as well


class PublicEvent(Event):
    """What every public event tells a subscriber about the generation, without calling the API."""

    client_id: UUID | None = Field(default=None, description="The API client (keys mode), else null.")
    template_id: str | None = None
    provider: str | None = Field(default=None, description="Who made the video, e.g. `dashscope`.")
    timings: dict[str, float] = Field(
        default_factory=dict,
        description="Seconds spent per stage (`queued`, `upload`, `detect`, `submit`, `render`, "
        "`archive`) and `total`; a stage that did not run is absent.",
    )
    attempt: int = Field(default=0, ge=0, description=ATTEMPT_DESCRIPTION)


class GenerationCompleted(PublicEvent):
    """Public: the video is ready, in the product's media store, behind signed links."""

    topic = topics.GENERATION_COMPLETED
    task_id: str
    video_url: str = Field(description="The product's signed link to the video (MP4).")
    video_duration: float | None = Field(default=None, description="Seconds.")
    poster_url: str | None = Field(default=None, description="A JPEG frame of the video.")
    gif_url: str | None = Field(
        default=None, description="The animated GIF, when the generation asked for one (`outputFormat` gif)."
    )
    billed_seconds: float | None = Field(
        default=None, description="What the provider bills for the video, in seconds of video."
    )
    video_expires_at: datetime | None = Field(
        default=None, description="When the video and its links are deleted; null: kept forever."
    )
    video_size_bytes: int | None = None


FailedStage = Literal["gateway", "uploader", "detector", "synthesizer", "poller", "archiver"]


class GenerationFailed(PublicEvent):
    """Public: the generation ended without a video; `code` and `message` say why."""

    topic = topics.GENERATION_FAILED
    stage: FailedStage
    code: str
    message: str
    status: str = Field(default="FAILED", description="FAILED, TIMED_OUT or EXPIRED.")
    retryable: bool = Field(
        default=False, description="True when the same request may succeed later (an outage, a timeout)."
    )


class GenerationCanceled(PublicEvent):
    """Public: the client canceled the generation; no video will come (a late one is ignored)."""

    topic = topics.GENERATION_CANCELED
    task_id: str | None = None


PUBLIC_EVENTS: tuple[type[PublicEvent], ...] = (GenerationCompleted, GenerationFailed, GenerationCanceled)
