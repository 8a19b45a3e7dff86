"""POST /api/generations: read the request, refuse what the provider would refuse, then accept it.

Nothing is stored before every check has passed; the photo is decoded off the event loop.
"""

from __future__ import annotations

from typing import Annotated

from common.providers.photo_limits import UPLOADS, photo_limits
from common.providers.registry import MAKES_GIFS
from common.settings import Settings
from common.urls import UrlRefused, check_callback_url, check_image_url
from fastapi import APIRouter, Header, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from gateway import clients
from gateway.accept import accept_generation
from gateway.deps import CatalogueDep, ClientDep, MediaDep, RelayDep, SessionsDep, SettingsDep
from gateway.errors import ApiError, invalid_fields
from gateway.idempotency import Claim, check_key, request_hash
from gateway.intake import Upload, is_json, media_type, read_form, read_json
from gateway.openapi import CREATE_BODY, PHOTO_PROBLEMS, problems
from gateway.photos import Photo, check_photo
from gateway.schemas import GenerationAccepted, GenerationCreate

router = APIRouter(prefix="/api")
_BY_ID = {"generation_id": "$response.body#/generationId"}
LINKS = {
    "GetGeneration": {"operationId": "getGeneration", "parameters": _BY_ID},
    "CancelGeneration": {"operationId": "cancelGeneration", "parameters": _BY_ID},
}
ACCEPTED_MESSAGE = "Accepted: the photo is queued; follow Location or its /events stream."


@router.post(
    "/generations",
    status_code=202,
    response_model=GenerationAccepted,
    operation_id="createGeneration",
    summary="Ask for a dancing video of a photo",
    openapi_extra={"requestBody": CREATE_BODY},
    responses={
        202: {
            "headers": {"Location": {"schema": {"type": "string"}, "description": "The generation."}},
            "links": LINKS,
        },
        **problems(
            "InvalidRequest",
            "InvalidJson",
            "UnknownTemplate",
            "MissingImage",
            "AmbiguousImage",
            "UnknownAsset",
            "InvalidImageUrl",
            "InvalidCallbackUrl",
            "Unauthorized",
            "IdempotencyKeyReused",
            "RateLimited",
            "TooManyInFlight",
            "ServiceUnavailable",
            *PHOTO_PROBLEMS,
        ),
    },
)
async def create_generation(
    request: Request,
    response: Response,
    sessions: SessionsDep,
    relay: RelayDep,
    settings: SettingsDep,
    client: ClientDep,
    catalogue: CatalogueDep,
    media: MediaDep,
    idempotency_key: Annotated[
        str | None,
        Header(description="Retry-safe: the same key and body give back the same generation (24 h)."),
    ] = None,
) -> GenerationAccepted:
    """Multipart (`file`, `templateId`, `email`, `ossUrl`, `imageUrl`, `callbackUrl`, `outputFormat`) or
    JSON (the same but `file`).

    Exactly one image: a `file`, an `ossUrl` (from POST /api/uploads/image) or an `imageUrl`.
    `callbackUrl` (optional; else the client's default) gets a signed webhook when the generation ends."""
    body, upload = await _read(request, settings)
    sources = [
        name
        for name, given in (("file", upload), ("ossUrl", body.oss_url), ("imageUrl", body.image_url))
        if given
    ]
    if not sources:
        raise ApiError(
            400, "MissingImage", "Send a photo as `file`, or an `ossUrl` or `imageUrl`.", field="file"
        )
    if len(sources) > 1:
        raise ApiError(
            400,
            "AmbiguousImage",
            f"Send exactly one image; this request has {' and '.join(sources)}.",
            field=sources[1],
        )
    template = await catalogue.find(body.template_id)
    if body.output_format == "gif" and template.provider not in MAKES_GIFS:
        raise ApiError(
            400,
            "InvalidRequest",
            f"Template {template.id!r} makes MP4 only; `outputFormat` gif needs a template that makes GIFs "
            f"({', '.join(sorted(MAKES_GIFS))}).",
            field="outputFormat",
        )
    limits = photo_limits(template.provider)
    photo: Photo | None = None
    image_url: str | None = None
    if upload is not None:
        photo = await run_in_threadpool(check_photo, upload.file_name, upload.data, limits)
    else:
        image_url = await _checked_url(body, settings)
    callback_url = await _checked_callback_url(body, settings)
    if callback_url is None and client is not None:
        callback_url = client.callback_url
    claim = None
    if idempotency_key is not None:
        fields = body.model_dump(by_alias=True)
        claim = Claim(
            scope=str(client.id) if client else "open",
            key=check_key(idempotency_key),
            request_hash=request_hash(fields, photo.sha256 if photo else None),
            ttl_seconds=settings.idempotency_ttl_seconds,
        )
    accepted = await accept_generation(
        sessions,
        media,
        template=template,
        email=body.email,
        photo=photo,
        image_url=image_url,
        callback_url=callback_url,
        output_format=body.output_format,
        photo_limits=limits,
        client=client,
        limits=clients.limits_of(client, settings.client_rate_per_minute, settings.client_max_in_flight),
        idempotency=claim,
    )
    if not accepted.replayed:
        relay.wake()
    else:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/generations/{accepted.generation_id}"
    return GenerationAccepted(
        generation_id=accepted.generation_id,
        status="QUEUED",
        message=ACCEPTED_MESSAGE,
        check_pass=None,
        task_id=None,
    )


async def _read(request: Request, settings: Settings) -> tuple[GenerationCreate, Upload | None]:
    kind = media_type(request)
    upload = None
    if kind == "multipart/form-data":
        fields, upload = await read_form(request, UPLOADS.max_bytes)
    elif is_json(kind):
        fields = await read_json(request, settings.max_json_bytes, settings.max_json_depth)
    else:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"Send application/json or multipart/form-data, not {kind or 'no Content-Type'}.",
        )
    try:
        return GenerationCreate.model_validate(fields), upload
    except ValidationError as exc:
        raise invalid_fields(exc.errors()) from exc


async def _checked_url(body: GenerationCreate, settings: Settings) -> str:
    field, url = ("ossUrl", body.oss_url) if body.oss_url else ("imageUrl", body.image_url)
    assert url is not None
    if url.startswith("asset://"):
        return url
    try:
        return await check_image_url(
            url, allow_http=settings.image_url_allow_http, allowed_hosts=settings.image_url_hosts, field=field
        )
    except UrlRefused as exc:
        raise ApiError(exc.status, exc.code, exc.detail, field=exc.field) from exc


async def _checked_callback_url(body: GenerationCreate, settings: Settings) -> str | None:
    if body.callback_url is None:
        return None
    try:
        checked = await check_callback_url(
            body.callback_url,
            allow_http=settings.callback_url_allow_http,
            allowed_hosts=settings.callback_url_hosts,
        )
    except UrlRefused as exc:
        raise ApiError(exc.status, exc.code, exc.detail, field=exc.field) from exc
    return checked.url
