"""The REST API's reads, uploads and cancel; the original project's endpoints keep their paths and
camelCase fields. In `keys` mode a client sees only its own generations: another's id answers 404."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from common.db.models import Client, Generation, Status, Template
from common.media.links import media_url
from common.providers.photo_limits import UPLOADS
from common.settings import Settings
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool

from gateway.accept import asset_url, store_asset
from gateway.cancel import cancel_generation
from gateway.deps import ClientDep, MediaDep, RelayDep, SessionsDep, SettingsDep
from gateway.errors import ApiError
from gateway.intake import media_type
from gateway.listing import page_of
from gateway.openapi import PHOTO_PROBLEMS, problems
from gateway.photos import check_photo
from gateway.schemas import (
    AssetUploaded,
    Detection,
    GenerationError,
    GenerationPage,
    GenerationPublic,
    TemplatePublic,
)

router = APIRouter(prefix="/api")

MESSAGES = {
    Status.QUEUED: "Waiting to start.",
    Status.UPLOADING: "Uploading the photo.",
    Status.DETECTING: "Checking the photo.",
    Status.SUBMITTING: "Submitting the video job.",
    Status.PENDING: "Queued at the provider.",
    Status.RUNNING: "The video is being made.",
    Status.ARCHIVING: "Saving the video.",
    Status.SUCCEEDED: "The video is ready.",
}


@router.get("/generation/templates", response_model=list[TemplatePublic], operation_id="listTemplates")
async def list_templates(sessions: SessionsDep, client: ClientDep) -> list[TemplatePublic]:
    async with sessions() as session:
        rows = await session.scalars(select(Template).where(Template.active).order_by(Template.name))
        return [
            TemplatePublic(
                template_id=t.id,
                name=t.name,
                description=t.description,
                preview_url=t.preview_url,
                provider=t.provider,
                duration_seconds=t.duration_seconds,
            )
            for t in rows
        ]


async def _multipart_only(request: Request) -> None:
    """415 for a body that is not multipart (else FastAPI would answer 422 "file: Field required")."""
    kind = media_type(request)
    if kind != "multipart/form-data":
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"Send the photo as multipart/form-data (field `file`), not {kind or 'no Content-Type'}.",
        )


@router.post(
    "/uploads/image",
    response_model=AssetUploaded,
    operation_id="uploadImage",
    dependencies=[Depends(_multipart_only)],
    responses=problems(
        "InvalidRequest",
        "Unauthorized",
        "ServiceUnavailable",
        *PHOTO_PROBLEMS,
    ),
)
async def upload_image(
    file: Annotated[UploadFile, File(description="The photo: JPEG, PNG, BMP or WEBP.")],
    sessions: SessionsDep,
    client: ClientDep,
    media: MediaDep,
    email: Annotated[str | None, Form(description="Accepted for the original's clients; unused.")] = None,
) -> AssetUploaded:
    """Store a photo for a later `POST /api/generations` with `ossUrl` = the answer's `ossUrl`."""
    data = await file.read(UPLOADS.max_bytes + 1)
    photo = await run_in_threadpool(check_photo, file.filename, data, UPLOADS)
    asset = await store_asset(sessions, photo, media)
    return AssetUploaded(asset_id=asset.id, file_name=asset.file_name, oss_url=asset_url(asset.id))


@router.get(
    "/generations",
    response_model=GenerationPage,
    operation_id="listGenerations",
    responses=problems("MalformedRequest", "Unauthorized"),
)
async def list_generations(
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    status: Annotated[list[Status] | None, Query(description="Only these statuses.")] = None,
    template_id: Annotated[str | None, Query(alias="templateId", max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[uuid.UUID | None, Query(description="`nextCursor` of the page before.")] = None,
) -> GenerationPage:
    """The caller's generations, newest first."""
    rows, next_cursor = await page_of(
        sessions,
        client_id=client.id if client else None,
        statuses=status,
        template_id=template_id,
        limit=limit,
        after=cursor,
    )
    return GenerationPage(items=[to_public(g, settings) for g in rows], next_cursor=next_cursor)


@router.get(
    "/generations/{generation_id}",
    response_model=GenerationPublic,
    operation_id="getGeneration",
    responses=problems("GenerationNotFound", "Unauthorized"),
)
async def get_generation(
    generation_id: uuid.UUID, sessions: SessionsDep, client: ClientDep, settings: SettingsDep
) -> GenerationPublic:
    return to_public(await visible_generation(sessions, generation_id, client), settings)


@router.post(
    "/generations/{generation_id}/cancel",
    response_model=GenerationPublic,
    operation_id="cancelGeneration",
    responses=problems("GenerationNotFound", "AlreadyFinished", "Unauthorized"),
)
async def cancel(
    generation_id: uuid.UUID, sessions: SessionsDep, relay: RelayDep, client: ClientDep, settings: SettingsDep
) -> GenerationPublic:
    """Stop a generation: canceled at the provider while its job waits there, ignored after that."""
    generation = await cancel_generation(sessions, generation_id, client.id if client else None)
    relay.wake()
    return to_public(generation, settings)


async def visible_generation(
    sessions: async_sessionmaker[AsyncSession], generation_id: uuid.UUID, client: Client | None
) -> Generation:
    async with sessions() as session:
        g = await session.get(Generation, generation_id)
    if g is None or (client is not None and g.client_id != client.id):
        raise ApiError(404, "GenerationNotFound", f"No generation {generation_id}.")
    return g


def to_public(g: Generation, settings: Settings) -> GenerationPublic:
    error = GenerationError(code=g.error_code, message=g.error_message or "") if g.error_code else None
    detection = (
        Detection(check_pass=g.check_pass, bodystyle=g.bodystyle, reason=g.detect_reason)
        if g.check_pass is not None
        else None
    )
    return GenerationPublic(
        generation_id=g.id,
        status=g.status,
        stage=g.stage,
        template_id=g.template_id,
        task_id=g.task_id,
        task_status=g.task_status,
        provider=g.provider,
        **_media(g, settings),
        message=g.error_message if error else MESSAGES.get(g.status, g.status.value),
        check_pass=g.check_pass,
        detection=detection,
        error=error,
        retries=g.retries,
        output_format=g.output_format or "mp4",
        billed_seconds=g.billed_seconds,
        created_at=g.created_at,
        updated_at=g.updated_at,
        uploaded_at=g.uploaded_at,
        detected_at=g.detected_at,
        submitted_at=g.submitted_at,
        finished_at=g.finished_at,
    )


def _media(g: Generation, settings: Settings) -> dict[str, Any]:
    """The video's links while it is kept; once retention deleted it, EXPIRED instead of dead links."""
    facts: dict[str, Any] = {"video_expires_at": g.video_expires_at, "video_duration": g.video_duration}
    none = {"video_url": None, "poster_url": None, "gif_url": None}
    if g.video_key is None:
        return facts | none | {"media": None}
    if g.media_expired_at is not None:
        return facts | none | {"media": "EXPIRED"}
    key = settings.media_signing_key.get_secret_value()
    base = settings.public_base_url

    def link(media_key: str | None) -> str | None:
        return media_url(base, key, media_key, g.video_expires_at) if media_key else None

    links = {"video_url": link(g.video_key), "poster_url": link(g.poster_key), "gif_url": link(g.gif_key)}
    return facts | links | {"media": "AVAILABLE"}
