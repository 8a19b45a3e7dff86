"""Event contracts: frozen, past tense, tolerant of unknown fields, additive only.

Every event carries the generation id, which is also its Kafka key, so one generation's
events stay in order on one partition.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, Literal, NewType
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from common import topics

GenerationId = NewType("GenerationId", UUID)


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


class ImageUploaded(Event):
    """The photo is readable by the provider: one URL per model that will read it."""

    topic = topics.IMAGE_UPLOADED
    template_id: str
    detect_image_url: str
    synthesis_image_url: str


class ImageAccepted(Event):
    """The provider's detector passed the photo."""

    topic = topics.IMAGE_ACCEPTED
    template_id: str
    synthesis_image_url: str
    bodystyle: str


class SynthesisSubmitted(Event):
    """The provider accepted a paid synthesis job."""

    topic = topics.SYNTHESIS_SUBMITTED
    task_id: str


class GenerationCompleted(Event):
    """Public: the video is ready."""

    topic = topics.GENERATION_COMPLETED
    task_id: str
    video_url: str
    video_duration: float | None = None


FailedStage = Literal["gateway", "uploader", "detector", "synthesizer", "poller"]


class GenerationFailed(Event):
    """Public: the generation ended without a video; `code` and `message` say why."""

    topic = topics.GENERATION_FAILED
    stage: FailedStage
    code: str
    message: str
    status: str = "FAILED"


class GenerationCanceled(Event):
    """Public: the client canceled the generation; no video will come (a late one is ignored)."""

    topic = topics.GENERATION_CANCELED
    task_id: str | None = None
