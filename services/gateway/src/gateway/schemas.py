"""REST shapes, camelCase on the wire as the original frontend expects."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class TemplatePublic(Schema):
    template_id: str
    name: str
    description: str
    duration_seconds: float | None = None


class GenerationCreate(Schema):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    template_id: str = Field(min_length=1, max_length=128)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    oss_url: str | None = Field(default=None, max_length=2048)
    image_url: str | None = Field(default=None, max_length=2048)


class GenerationAccepted(Schema):
    generation_id: uuid.UUID
    status: str


class Detection(Schema):
    check_pass: bool | None
    bodystyle: str | None
    reason: str | None


class GenerationError(Schema):
    code: str
    message: str


class GenerationPublic(Schema):
    generation_id: uuid.UUID
    status: str
    stage: str
    template_id: str
    task_id: str | None
    task_status: str | None
    video_url: str | None
    message: str | None
    detection: Detection | None
    error: GenerationError | None
    retries: int
    created_at: datetime
    updated_at: datetime
    uploaded_at: datetime | None
    detected_at: datetime | None
    submitted_at: datetime | None
    finished_at: datetime | None


class AssetUploaded(Schema):
    asset_id: uuid.UUID
    file_name: str
    oss_url: str
