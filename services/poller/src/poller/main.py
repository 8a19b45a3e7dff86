"""poller: on SynthesisSubmitted, start watching the task; on a timer, poll due tasks until they end."""

from __future__ import annotations

import asyncio
import logging

from common import topics
from common.db.generations import SqlGenerationStore
from common.events import Event, SynthesisSubmitted
from common.messaging import publish
from common.stage import StageContext, run, stage_app
from faststream import FastStream

from poller.schedule import PollSchedule
from poller.watch_task import check_task

log = logging.getLogger(__name__)


async def on_synthesis_submitted(ctx: StageContext, event: SynthesisSubmitted) -> Event | None:
    schedule = PollSchedule(ctx.sessions, ctx.settings.poll_interval_seconds)
    await schedule.start_watching(event.generation_id, event.task_id)
    return None


async def poll_forever(ctx: StageContext) -> None:
    schedule = PollSchedule(ctx.sessions, ctx.settings.poll_interval_seconds)
    store = SqlGenerationStore(ctx.sessions)
    tick = min(1.0, ctx.settings.poll_interval_seconds)
    while True:
        due = []
        try:
            due = await schedule.claim_due(ctx.settings.poll_batch_size)
            results = await asyncio.gather(*(check_task(d, store, ctx.dashscope) for d in due))
            for event in results:
                if event is not None:
                    await publish(ctx.broker, event, ctx.name)
        except Exception:  # keep polling through a database or broker hiccup
            log.exception("poll round failed")
        if not due:
            await asyncio.sleep(tick)


def create_app() -> FastStream:
    return stage_app(
        "poller",
        topics.SYNTHESIS_SUBMITTED,
        SynthesisSubmitted,
        on_synthesis_submitted,
        background=poll_forever,
    )


def main() -> None:
    run(create_app())
