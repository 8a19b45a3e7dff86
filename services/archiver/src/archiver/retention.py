"""Retention: media past its time is deleted, and the generation says so instead of linking to nothing.

Videos and posters go when `video_expires_at` has passed (`media_expired_at` is then set, and the API
shows the media as EXPIRED); a photo goes `photo_retention_seconds` after its generation ended (or
after it was uploaded, if no generation used it). Replicas share the work through SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from common.db.generations import now
from common.db.models import TERMINAL, Asset, Generation
from common.logging import log_context
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from archiver.ports import MediaDeletes

log = logging.getLogger(__name__)
BATCH = 100


async def expire_media(sessions: async_sessionmaker[AsyncSession], media: MediaDeletes) -> int:
    """Delete the videos and posters whose time is up; returns how many generations lost theirs."""
    async with sessions.begin() as session:
        due = (
            await session.scalars(
                select(Generation)
                .where(Generation.video_expires_at < now(), Generation.media_expired_at.is_(None))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for g in due:
            with log_context(generation_id=g.id, stage="archiver"):
                for key in (g.video_key, g.poster_key, g.gif_key):
                    if key:
                        await media.delete(key)
            g.media_expired_at = now()
        return len(due)


async def delete_photos(
    sessions: async_sessionmaker[AsyncSession], media: MediaDeletes, retention_seconds: float
) -> int:
    """Delete photos no generation still needs, `retention_seconds` after their last use."""
    cutoff = now() - timedelta(seconds=retention_seconds)
    still_needed = exists().where(
        Generation.asset_id == Asset.id,
        or_(Generation.status.not_in(TERMINAL), Generation.finished_at > cutoff),
    )
    async with sessions.begin() as session:
        due = (
            await session.scalars(
                select(Asset)
                .where(
                    and_(Asset.deleted_at.is_(None), Asset.created_at < cutoff, ~still_needed),
                    or_(Asset.media_key.is_not(None), Asset.data.is_not(None)),
                )
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for asset in due:
            if asset.media_key:
                await media.delete(asset.media_key)
            asset.data, asset.deleted_at = None, now()
        return len(due)


async def retain_forever(
    sessions: async_sessionmaker[AsyncSession],
    media: MediaDeletes,
    photo_retention_seconds: float,
    interval_seconds: float,
) -> None:
    while True:
        done = 0
        try:
            done = await expire_media(sessions, media)
            if photo_retention_seconds:
                done += await delete_photos(sessions, media, photo_retention_seconds)
        except Exception:  # the store or the database is down: the next round tries again
            log.exception("retention round failed")
        if done:
            log.info("retention: %d generations or photos cleared", done)
        else:
            await asyncio.sleep(interval_seconds)
