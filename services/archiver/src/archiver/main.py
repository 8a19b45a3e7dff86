"""archiver: on VideoRendered, keep the video in the media store, then announce GenerationCompleted;
in the background, delete media whose retention is over.

A stage of its own (not part of the poller): copying and decoding videos is heavy, slow work that
must not delay the poll schedule, and it scales, retries and fails on its own consumer group. A
media store outage hands the message back (the generation waits as ARCHIVING, nothing is announced)
until the store is back.
"""

from __future__ import annotations

from datetime import datetime

from common import topics
from common.db.generations import SqlGenerationStore
from common.events import Event, VideoRendered
from common.media.links import media_url
from common.stage import StageContext, run, stage_app
from faststream import FastStream

from archiver.archive_video import Policy, archive_video
from archiver.download import HttpVideoDownloads
from archiver.retention import retain_forever


async def on_video_rendered(ctx: StageContext, event: VideoRendered) -> Event | None:
    s = ctx.settings
    signing_key = s.media_signing_key.get_secret_value()

    def link(key: str, expires_at: datetime | None) -> str:
        return media_url(s.public_base_url, signing_key, key, expires_at)

    policy = Policy(s.media_retention_seconds, s.max_video_bytes, s.max_video_seconds)
    store = SqlGenerationStore(ctx.sessions)
    return await archive_video(
        event, store, HttpVideoDownloads(ctx.http, s.archive_timeout_seconds), ctx.media, policy, link
    )


async def retention(ctx: StageContext) -> None:
    s = ctx.settings
    await retain_forever(ctx.sessions, ctx.media, s.photo_retention_seconds, s.retention_interval_seconds)


def create_app() -> FastStream:
    return stage_app(
        "archiver", topics.VIDEO_RENDERED, VideoRendered, on_video_rendered, background=retention
    )


def main() -> None:
    run(create_app())
