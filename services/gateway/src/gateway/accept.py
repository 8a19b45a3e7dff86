"""Accept a generation: the request, its photo and its event are stored in one transaction.

The outbox relay publishes the event once the transaction has committed, so a broker outage delays
the pipeline but never loses or refuses an accepted request. Everything a client can get wrong is
checked before that transaction, so a refused request leaves nothing behind.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from common import outbox, tracing
from common.db.models import Asset, Client, Generation, Status
from common.events import GenerationRequested
from common.providers.photo_limits import PhotoLimits
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import clients
from gateway.catalogue import TemplateRef
from gateway.errors import ApiError
from gateway.idempotency import Claim, claim_key
from gateway.photos import Photo, check_size

ASSET_SCHEME = "asset://"
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/bmp": ".bmp", "image/webp": ".webp"}
SOURCE = "gateway"


class PhotoFiles(Protocol):
    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...


@dataclass(frozen=True)
class Accepted:
    generation_id: uuid.UUID
    replayed: bool  # an earlier request with the same Idempotency-Key made it


def asset_url(asset_id: uuid.UUID) -> str:
    return f"{ASSET_SCHEME}{asset_id}"


async def new_asset(photo: Photo, media: PhotoFiles) -> Asset:
    """The photo's row, its bytes put in the media store first (the caller's transaction commits the
    row only after that, so a row never names a missing photo)."""
    asset_id = uuid.uuid4()
    key = f"photos/{asset_id}{EXTENSIONS.get(photo.content_type, '')}"
    await media.put_bytes(key, photo.data, photo.content_type)
    return Asset(
        id=asset_id,
        file_name=photo.file_name,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        size_bytes=len(photo.data),
        sha256=photo.sha256,
        media_key=key,
    )


async def store_asset(sessions: async_sessionmaker[AsyncSession], photo: Photo, media: PhotoFiles) -> Asset:
    async with sessions.begin() as session:
        asset = await new_asset(photo, media)
        session.add(asset)
    return asset


def asset_id_of(url: str) -> uuid.UUID | None:
    """The asset id of an `asset://<uuid>` URL; None for any other URL."""
    if not url.startswith(ASSET_SCHEME):
        return None
    try:
        return uuid.UUID(url.removeprefix(ASSET_SCHEME))
    except ValueError as exc:
        raise ApiError(400, "UnknownAsset", f"No uploaded photo matches {url}.", field="ossUrl") from exc


async def accept_generation(
    sessions: async_sessionmaker[AsyncSession],
    media: PhotoFiles,
    *,
    template: TemplateRef,
    email: str | None,
    photo: Photo | None,
    image_url: str | None,
    photo_limits: PhotoLimits,
    callback_url: str | None = None,
    output_format: str = "mp4",
    client: Client | None,
    limits: clients.Limits,
    idempotency: Claim | None,
) -> Accepted:
    """Store the generation, its photo and its GenerationRequested event in one transaction."""
    generation_id = uuid.uuid4()
    tracing.tag(generation_id)  # the request's span: its trace is the generation's
    async with sessions.begin() as session:
        if idempotency is not None:
            earlier = await claim_key(session, idempotency, generation_id)
            if earlier is not None:
                return Accepted(earlier, replayed=True)
        await clients.admit(session, client, limits)
        asset_id, url = await _image(session, photo, image_url, photo_limits, media)
        session.add(
            Generation(
                id=generation_id,
                status=Status.QUEUED,
                stage="gateway",
                template_id=template.id,
                provider=template.provider,
                email=email,
                client_id=client.id if client else None,
                asset_id=asset_id,
                image_url=url,
                callback_url=callback_url,
                output_format=output_format,
            )
        )
        event = GenerationRequested(
            generation_id=generation_id, template_id=template.id, asset_id=asset_id, image_url=url
        )
        outbox.add(session, event, SOURCE)
    return Accepted(generation_id, replayed=False)


async def _image(
    session: AsyncSession, photo: Photo | None, url: str | None, limits: PhotoLimits, media: PhotoFiles
) -> tuple[uuid.UUID | None, str | None]:
    if photo is not None:
        asset = await new_asset(photo, media)
        session.add(asset)
        await session.flush()
        return asset.id, None
    assert url is not None  # the route checked that there is exactly one image
    asset_id = asset_id_of(url)
    if asset_id is None:
        return None, url
    stored = (
        await session.execute(select(Asset.width, Asset.height, Asset.size_bytes).where(Asset.id == asset_id))
    ).one_or_none()  # not the photo's bytes
    if stored is None:
        raise ApiError(400, "UnknownAsset", f"No uploaded photo matches {url}.", field="ossUrl")
    check_size(stored.width, stored.height, limits)  # uploads accept what any provider takes
    if stored.size_bytes > limits.max_bytes:
        raise ApiError(
            413,
            "FileTooLarge",
            f"This template's provider takes photos up to {limits.max_bytes / 2**20:g} MB.",
            field="ossUrl",
        )
    return asset_id, None
