"""Accept a generation: the request, its photo and its event are stored in one transaction.

The outbox relay publishes the event once the transaction has committed, so a broker outage delays
the pipeline but never loses or refuses an accepted request.
"""

from __future__ import annotations

import uuid

from common import outbox
from common.db.models import Asset, Generation, Status, Template
from common.events import GenerationRequested
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.errors import ApiError
from gateway.photos import Photo

ASSET_SCHEME = "asset://"
SOURCE = "gateway"


def asset_url(asset_id: uuid.UUID) -> str:
    return f"{ASSET_SCHEME}{asset_id}"


def new_asset(photo: Photo) -> Asset:
    return Asset(
        id=uuid.uuid4(),
        file_name=photo.file_name,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        size_bytes=len(photo.data),
        sha256=photo.sha256,
        data=photo.data,
    )


async def store_asset(sessions: async_sessionmaker[AsyncSession], photo: Photo) -> Asset:
    asset = new_asset(photo)
    async with sessions.begin() as session:
        session.add(asset)
    return asset


async def _resolve_image(
    session: AsyncSession, photo: Photo | None, url: str | None
) -> tuple[uuid.UUID | None, str | None]:
    if photo is not None:
        asset = new_asset(photo)
        session.add(asset)
        return asset.id, None
    if not url:
        raise ApiError(400, "MissingImage", "Send a photo as `file`, or an `ossUrl` / `imageUrl`.")
    if url.startswith(ASSET_SCHEME):
        try:
            asset_id = uuid.UUID(url.removeprefix(ASSET_SCHEME))
        except ValueError:
            asset_id = None
        if asset_id is None or await session.get(Asset, asset_id) is None:
            raise ApiError(400, "UnknownAsset", f"No uploaded photo matches {url}.")
        return asset_id, None
    if not url.startswith(("oss://", "https://", "http://")):
        raise ApiError(
            400, "InvalidImageUrl", "The image URL must start with asset://, oss://, https:// or http://."
        )
    return None, url


async def accept_generation(
    sessions: async_sessionmaker[AsyncSession],
    *,
    template_id: str,
    email: str | None,
    photo: Photo | None,
    image_url: str | None,
) -> uuid.UUID:
    """Store the generation, its photo and its GenerationRequested event in one transaction."""
    generation_id = uuid.uuid4()
    async with sessions.begin() as session:
        template = await session.scalar(select(Template).where(Template.id == template_id, Template.active))
        if template is None:
            raise ApiError(
                400,
                "UnknownTemplate",
                f"Template {template_id!r} does not exist; see GET /api/generation/templates.",
            )
        asset_id, url = await _resolve_image(session, photo, image_url)
        await session.flush()
        session.add(
            Generation(
                id=generation_id,
                status=Status.QUEUED,
                stage="gateway",
                template_id=template_id,
                email=email,
                asset_id=asset_id,
                image_url=url,
            )
        )
        event = GenerationRequested(
            generation_id=generation_id, template_id=template_id, asset_id=asset_id, image_url=url
        )
        outbox.add(session, event, SOURCE)
    return generation_id
