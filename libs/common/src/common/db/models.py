"""The read model: one row per generation answers a status query; assets and templates beside it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Status(enum.StrEnum):
    QUEUED = "QUEUED"
    UPLOADING = "UPLOADING"
    DETECTING = "DETECTING"
    SUBMITTING = "SUBMITTING"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    ARCHIVING = "ARCHIVING"  # the provider made the video; the product is storing its own copy
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    TIMED_OUT = "TIMED_OUT"
    EXPIRED = "EXPIRED"


TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.TIMED_OUT, Status.EXPIRED})


class Template(Base):
    __tablename__ = "templates"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_seconds: Mapped[float | None] = mapped_column(nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    preview_url: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(32), default="dashscope", server_default="dashscope")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Client(Base):
    """A frontend calling the API with its own key (access mode `keys`); only the key's hash is kept."""

    __tablename__ = "clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    rate_per_minute: Mapped[float | None] = mapped_column()  # None: the setting's default
    max_in_flight: Mapped[int | None] = mapped_column(Integer)
    callback_url: Mapped[str | None] = mapped_column(Text)  # the default for the client's generations
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    """A client's `Idempotency-Key` and the generation its first request made."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # client id, or "open"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    generation_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GenerationEvent(Base):
    """A generation's status change, written by a database trigger and announced by NOTIFY."""

    __tablename__ = "generation_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    generation_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Asset(Base):
    """A photo a client uploaded; its bytes are in the media store under `media_key`."""

    __tablename__ = "assets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_key: Mapped[str | None] = mapped_column(Text)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)  # photos accepted before the media store
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # by retention
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Generation(Base):
    __tablename__ = "generations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    status: Mapped[Status] = mapped_column(
        Enum(Status, name="generation_status", native_enum=False, length=16)
    )
    stage: Mapped[str] = mapped_column(String(32))
    template_id: Mapped[str] = mapped_column(ForeignKey("templates.id"))
    provider: Mapped[str] = mapped_column(String(32), default="dashscope", server_default="dashscope")
    callback_url: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(320))
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id"))
    asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assets.id"))
    image_url: Mapped[str | None] = mapped_column(Text)
    # uploader: where the provider reads the photo, for its photo check and for its video job
    check_image_url: Mapped[str | None] = mapped_column(Text)
    job_image_url: Mapped[str | None] = mapped_column(Text)
    upload_request_id: Mapped[str | None] = mapped_column(String(64))
    # detector
    check_pass: Mapped[bool | None] = mapped_column(Boolean)
    bodystyle: Mapped[str | None] = mapped_column(String(16))  # DashScope's "full"/"half" (original API)
    detect_reason: Mapped[str | None] = mapped_column(Text)
    detect_request_id: Mapped[str | None] = mapped_column(String(64))
    # synthesizer
    task_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    submit_request_id: Mapped[str | None] = mapped_column(String(64))
    # poller
    task_status: Mapped[str | None] = mapped_column(String(32))
    poll_request_id: Mapped[str | None] = mapped_column(String(64))
    poll_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    provider_video_url: Mapped[str | None] = mapped_column(Text)  # dies a day after the job
    provider_video_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    video_duration: Mapped[float | None] = mapped_column()
    output_format: Mapped[str] = mapped_column(String(8), default="mp4", server_default="mp4")  # or gif
    provider_gif_url: Mapped[str | None] = mapped_column(Text)  # with output_format gif
    # what the provider bills for the video (DashScope: per output second; cutout.pro: per template)
    billed_seconds: Mapped[float | None] = mapped_column()
    # archiver: the product's own copy in the media store
    video_key: Mapped[str | None] = mapped_column(Text)
    poster_key: Mapped[str | None] = mapped_column(Text)
    gif_key: Mapped[str | None] = mapped_column(Text)
    video_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    video_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None: forever
    media_expired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # deleted then
    retries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 0 for the first run; n after an operator's nth retry (`dancer-admin retry`): part of the ce_id of
    # the run's GenerationRequested and of its public outcome
    attempt: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # provider jobs an operator's retry replaced by a new one: still this generation's, never orphans
    previous_task_ids: Mapped[list[str] | None] = mapped_column(ARRAY(String(128)))
    # The trace of the work that started watching its provider job (`common.tracing.carrier`).
    trace_context: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    submit_intent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_cancel_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # failure
    error_code: Mapped[str | None] = mapped_column(String(128))
    error_message: Mapped[str | None] = mapped_column(Text)
    # per-stage timestamps
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    # when each stage started its work on the generation (its queue wait ends there)
    upload_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detect_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submit_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    uploaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # provider job done
    archive_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxRecord(Base):
    """An event stored in the same transaction as the facts it announces; a relay publishes it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    headers: Mapped[dict[str, str]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StageRetry(Base):
    """An event a stage tries again later (retryable provider error), off its partition."""

    __tablename__ = "stage_retries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    stage: Mapped[str] = mapped_column(String(32))
    generation_id: Mapped[uuid.UUID] = mapped_column()
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # attempts not throttled
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_code: Mapped[str | None] = mapped_column(String(128))
    last_message: Mapped[str | None] = mapped_column(Text)
    trace_context: Mapped[dict[str, str] | None] = mapped_column(JSONB)  # of the attempt that failed


class WebhookDelivery(Base):
    """One public event to deliver to one callback URL; `webhook_id` is the event's `ce_id`."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "url", name="uq_webhook_deliveries_webhook_id_url"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(String(64))
    generation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    url: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gave_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    trace_context: Mapped[dict[str, str] | None] = mapped_column(JSONB)  # of the event's consumer


class WebhookAttempt(Base):
    """One try of a delivery and what the receiver answered (or why it could not be reached)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
