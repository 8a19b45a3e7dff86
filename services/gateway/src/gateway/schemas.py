"""REST shapes, camelCase on the wire as the original frontend expects."""

from __future__ import annotations

import uuid
from datetime import datetime

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

    @field_validator("email", "oss_url", "image_url", mode="before")
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
    video_url: str | None
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


class Problem(BaseModel):
    """RFC 9457 problem details, as `application/problem+json`."""

    type: str = Field(description="Stable per cause: /problems/<code>.")
    title: str
    status: int
    detail: str = Field(description="What went wrong and what to do.")
    code: str = Field(description="The product's short code for the cause.")
    field: str | None = Field(default=None, description="The offending request field, when there is one.")
