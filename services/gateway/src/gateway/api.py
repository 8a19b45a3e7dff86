"""The REST API; the original project's three endpoints keep their paths and camelCase fields."""

from __future__ import annotations

import uuid
from typing import Annotated

from common.db.models import Generation, Status, Template
from fastapi import APIRouter, Request, Response, UploadFile
from pydantic import ValidationError
from sqlalchemy import select

from gateway.accept import accept_generation, asset_url, store_asset
from gateway.cancel import cancel_generation
from gateway.deps import RelayDep, SessionsDep, SettingsDep
from gateway.errors import ApiError
from gateway.photos import check_photo
from gateway.schemas import (
    AssetUploaded,
    Detection,
    GenerationAccepted,
    GenerationCreate,
    GenerationError,
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
    Status.SUCCEEDED: "The video is ready.",
}


@router.get("/generation/templates", response_model=list[TemplatePublic])
async def list_templates(sessions: SessionsDep) -> list[TemplatePublic]:
    async with sessions() as session:
        rows = await session.scalars(select(Template).where(Template.active).order_by(Template.name))
        return [
            TemplatePublic(
                template_id=t.id, name=t.name, description=t.description, duration_seconds=t.duration_seconds
            )
            for t in rows
        ]


@router.post("/uploads/image", response_model=AssetUploaded)
async def upload_image(file: UploadFile, sessions: SessionsDep, settings: SettingsDep) -> AssetUploaded:
    photo = check_photo(
        file.filename, await file.read(settings.max_image_bytes + 1), settings.max_image_bytes
    )
    asset = await store_asset(sessions, photo)
    return AssetUploaded(asset_id=asset.id, file_name=asset.file_name, oss_url=asset_url(asset.id))


@router.post("/generations", status_code=202, response_model=GenerationAccepted)
async def create_generation(
    request: Request, response: Response, sessions: SessionsDep, relay: RelayDep, settings: SettingsDep
) -> GenerationAccepted:
    """Multipart (`file`, `templateId`, `email`, `ossUrl`) or JSON (`templateId`, `email`, `ossUrl`)."""
    photo = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if upload is not None and not isinstance(upload, str):
            photo = check_photo(
                upload.filename, await upload.read(settings.max_image_bytes + 1), settings.max_image_bytes
            )
    else:
        try:
            fields = await request.json()
        except ValueError as exc:
            raise ApiError(400, "InvalidRequest", "The body must be JSON or multipart/form-data.") from exc
    try:
        body = GenerationCreate.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise ApiError(422, "InvalidRequest", problems) from exc
    generation_id = await accept_generation(
        sessions,
        template_id=body.template_id,
        email=body.email,
        photo=photo,
        image_url=body.oss_url or body.image_url,
    )
    relay.wake()
    response.headers["Location"] = f"/api/generations/{generation_id}"
    return GenerationAccepted(generation_id=generation_id, status=Status.QUEUED.value)


@router.get("/generations/{generation_id}", response_model=GenerationPublic)
async def get_generation(generation_id: uuid.UUID, sessions: SessionsDep) -> GenerationPublic:
    async with sessions() as session:
        g = await session.get(Generation, generation_id)
    if g is None:
        raise ApiError(404, "GenerationNotFound", f"No generation {generation_id}.")
    return to_public(g)


@router.post("/generations/{generation_id}/cancel", response_model=GenerationPublic)
async def cancel(generation_id: uuid.UUID, sessions: SessionsDep, relay: RelayDep) -> GenerationPublic:
    """Stop a generation: canceled at the provider while its job waits there, ignored after that."""
    generation = await cancel_generation(sessions, generation_id)
    relay.wake()
    return to_public(generation)


def to_public(g: Generation) -> GenerationPublic:
    error = GenerationError(code=g.error_code, message=g.error_message or "") if g.error_code else None
    detection = (
        Detection(check_pass=g.check_pass, bodystyle=g.bodystyle, reason=g.detect_reason)
        if g.check_pass is not None
        else None
    )
    return GenerationPublic(
        generation_id=g.id,
        status=g.status.value,
        stage=g.stage,
        template_id=g.template_id,
        task_id=g.task_id,
        task_status=g.task_status,
        video_url=g.video_url,
        message=g.error_message if error else MESSAGES.get(g.status, g.status.value),
        detection=detection,
        error=error,
        retries=g.retries,
        created_at=g.created_at,
        updated_at=g.updated_at,
        uploaded_at=g.uploaded_at,
        detected_at=g.detected_at,
        submitted_at=g.submitted_at,
        finished_at=g.finished_at,
    )


Unused = Annotated[None, None]
