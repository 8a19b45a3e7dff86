"""Retention on the real database and a real folder store: media past its time is deleted, the
generation says EXPIRED, and photos go once no generation needs them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from archiver.retention import delete_photos, expire_media
from common.db.generations import now
from common.db.models import Asset, Generation, Status
from common.db.session import make_engine, make_sessionmaker
from common.media import LocalMediaStore
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

pytestmark = pytest.mark.integration
TEMPLATE = "AACT.5b7d2e10.Lp0sYv6Cu3-Ra8Qm1tWf-N.x9-HB-qR"
DAY = timedelta(days=1)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _succeeded(
    sessions: async_sessionmaker[AsyncSession], media: LocalMediaStore, expires_in: timedelta | None
) -> uuid.UUID:
    generation_id = uuid.uuid4()
    video, poster = f"videos/{generation_id}.mp4", f"posters/{generation_id}.jpg"
    await media.put_bytes(video, b"mp4", "video/mp4")
    await media.put_bytes(poster, b"jpg", "image/jpeg")
    async with sessions.begin() as session:
        session.add(
            Generation(
                id=generation_id,
                status=Status.SUCCEEDED,
                stage="archiver",
                template_id=TEMPLATE,
                video_key=video,
                poster_key=poster,
                video_expires_at=now() + expires_in if expires_in is not None else None,
                finished_at=now(),
            )
        )
    return generation_id


async def test_expired_media_is_deleted_and_the_generation_says_so(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    media = LocalMediaStore(tmp_path)
    expired = await _succeeded(sessions, media, -timedelta(seconds=1))
    kept = await _succeeded(sessions, media, DAY)
    forever = await _succeeded(sessions, media, None)

    while await expire_media(sessions, media):  # other tests' rows may be due too
        pass

    async with sessions() as session:
        rows = {g: await session.get(Generation, g) for g in (expired, kept, forever)}
    assert rows[expired] is not None and rows[expired].media_expired_at is not None
    assert not await media.exists(f"videos/{expired}.mp4") and not await media.exists(
        f"posters/{expired}.jpg"
    )
    for generation_id in (kept, forever):
        row = rows[generation_id]
        assert row is not None and row.media_expired_at is None
        assert await media.exists(f"videos/{generation_id}.mp4")


async def test_a_photo_goes_only_once_no_generation_needs_it(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    media = LocalMediaStore(tmp_path)
    old = now() - 2 * DAY
    photos = {name: uuid.uuid4() for name in ("ended", "running", "unused", "recent")}
    async with sessions.begin() as session:
        for name, asset_id in photos.items():
            key = f"photos/{asset_id}.png"
            await media.put_bytes(key, b"png", "image/png")
            created = now() if name == "recent" else old
            session.add(
                Asset(
                    id=asset_id,
                    file_name="p.png",
                    content_type="image/png",
                    width=600,
                    height=900,
                    size_bytes=3,
                    sha256="0" * 64,
                    media_key=key,
                    created_at=created,
                )
            )
        await session.flush()
        for name, status in (("ended", Status.SUCCEEDED), ("running", Status.RUNNING)):
            session.add(
                Generation(
                    status=status,
                    stage="poller",
                    template_id=TEMPLATE,
                    asset_id=photos[name],
                    finished_at=old if status is Status.SUCCEEDED else None,
                )
            )

    while await delete_photos(sessions, media, retention_seconds=DAY.total_seconds()):
        pass

    gone = {name for name, asset_id in photos.items() if not await media.exists(f"photos/{asset_id}.png")}
    assert gone == {"ended", "unused"}
