"""REST shapes, camelCase on the wire as the original frontend expects."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from common.db.models import Status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class TemplatePublic(Schema):
    template_id: str
    name: str
    description: str
    preview_url: str | None = Field(description="An image or clip showing the motion; null when none.")
    provider: str
    duration_seconds: float | None = None


class GenerationCreate(Schema):
    """The fields of `POST /api/generations`, as JSON or as multipart form fields (plus `file`).

    Unknown fields are ignored and an empty `email` counts as none, as in the original project."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    template_id: str = Field(min_length=1, max_length=128, description="From GET /api/generation/templates.")
    email: str | None = Field(default=None, max_length=320, pattern=r"^$|^[^@ \t\r\n]+@[^@ \t\r\n]+$")
    oss_url: str | None = Field(
        default=None, max_length=2048, description="An asset:// URL from POST /api/uploads/image, or oss://."
    )
    image_url: str | None = Field(default=None, max_length=2048, description="An https:// URL of the photo.")
    callback_url: str | None = Field(
        default=None,
        max_length=2048,
        description="An https:// URL that gets a signed webhook (Standard Webhooks) when the generation "
        "ends; by default the client's own.",
    )

    output_format: Literal["mp4", "gif"] = Field(
        default="mp4",
        description="`gif`: a GIF as well as the MP4 (`gifUrl`), for templates whose provider makes one "
        "(cutout.pro).",
    )

    @field_validator("output_format", mode="before")
    @classmethod
    def _blank_is_mp4(cls, value: object) -> object:
        return "mp4" if value in ("", None) else value

    @field_validator("email", "oss_url", "image_url", "callback_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value


class GenerationAccepted(Schema):
    generation_id: uuid.UUID
    status: Status
    message: str
    check_pass: bool | None = Field(description="The original's field: null until the photo is checked.")
    task_id: str | None = Field(description="The original's field: null until the provider has the job.")


class Detection(Schema):
    check_pass: bool | None
    bodystyle: str | None
    reason: str | None


class GenerationError(Schema):
    code: str
    message: str


class GenerationPublic(Schema):
    generation_id: uuid.UUID
    status: Status
    stage: str
    template_id: str
    task_id: str | None
    task_status: str | None
    provider: str
    video_url: str | None = Field(
        description="The product's own signed link to the video (MP4), valid until `videoExpiresAt`; "
        "null until SUCCEEDED, and again once the video was deleted (`media` EXPIRED)."
    )
    poster_url: str | None = Field(description="A JPEG frame of the video, signed like `videoUrl`.")
    gif_url: str | None = Field(
        default=None, description="The GIF (with `outputFormat` gif), signed like `videoUrl`; else null."
    )
    output_format: Literal["mp4", "gif"] = "mp4"
    billed_seconds: float | None = Field(
        default=None,
        description="What the provider bills for the video, in seconds of video (DashScope: the output's "
        "length; cutout.pro: the template's clip length); null until it has made one.",
    )
    video_expires_at: datetime | None = Field(
        description="When the video and its links are deleted (the retention); null: kept forever."
    )
    video_duration: float | None = Field(description="Seconds.")
    media: Literal["AVAILABLE", "EXPIRED"] | None = Field(
        description="AVAILABLE once the video is stored; EXPIRED after retention deleted it; else null."
    )
    message: str | None
    check_pass: bool | None = Field(description="The original's field; also in `detection`.")
    detection: Detection | None
    error: GenerationError | None
    retries: int
    created_at: datetime
    updated_at: datetime
    uploaded_at: datetime | None
    detected_at: datetime | None
    submitted_at: datetime | None
    finished_at: datetime | None


class GenerationPage(Schema):
    items: list[GenerationPublic]
    next_cursor: uuid.UUID | None = Field(
        description="Pass as `cursor` for the next (older) page; null at the end."
    )


class AssetUploaded(Schema):
    asset_id: uuid.UUID
    file_name: str
    oss_url: str


class WebhookAttemptPublic(Schema):
    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null if none was received.")
    error: str | None = Field(
        description="Why the attempt failed when there was no status (or a refused URL)."
    )
    duration_ms: int


class WebhookDeliveryPublic(Schema):
    """A webhook for one terminal event of a generation, to one URL, and its attempts so far."""

    webhook_id: str = Field(description="The `webhook-id` header: the same on every attempt; dedupe on it.")
    event_type: str = Field(
        description="`generation.completed`, `generation.failed` or `generation.canceled`."
    )
    url: str
    status: Literal["pending", "delivered", "failed"] = Field(
        description="`failed`: given up (the retry window ran out, or the receiver answered 410 Gone)."
    )
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="When it is tried next; null once it has ended.")
    delivered_at: datetime | None
    gave_up_at: datetime | None
    created_at: datetime
    attempts: list[WebhookAttemptPublic] = Field(description="Every failed or successful try, oldest first.")


class Problem(BaseModel):
    """RFC 9457 problem details, as `application/problem+json`."""

    type: str = Field(description="Stable per cause: /problems/<code>.")
    title: str
    status: int
    detail: str = Field(description="What went wrong and what to do.")
    code: str = Field(description="The product's short code for the cause.")
    field: str | None = Field(default=None, description="The offending request field, when there is one.")
