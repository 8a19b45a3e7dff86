"""`dancer-admin backlog`: where work is waiting, stage by stage.

Kafka: per consumer group (a stage's name is its group) and topic, the lag, the records published and
not yet committed by the group (a group that never committed counts from each partition's start, as its
`auto_offset_reset=earliest` consumers will), and the dead letters on their topic. Postgres: the
stored stage retries (due now, and in all), the poll schedule (tasks watched, due, most overdue), the
outbox (unpublished records, the oldest's age) and webhook deliveries still to make.
"""

from __future__ import annotations

from typing import Any

from common import topics
from common.settings import Settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin import kafka

# Each stage's consumer group and what it reads (its name is its group: common.stage.stage_app).
GROUPS: dict[str, tuple[str, ...]] = {
    "uploader": (topics.GENERATION_REQUESTED,),
    "detector": (topics.IMAGE_UPLOADED,),
    "synthesizer": (topics.IMAGE_ACCEPTED,),
    "poller": (topics.SYNTHESIS_SUBMITTED,),
    "archiver": (topics.VIDEO_RENDERED,),
    "notifier": topics.PUBLIC,
}
_RETRIES = text(
    "SELECT stage, count(*) FILTER (WHERE due_at <= now()) AS due, count(*) AS total, "
    "coalesce(extract(epoch FROM now() - min(due_at) FILTER (WHERE due_at <= now())), 0) AS overdue "
    "FROM stage_retries GROUP BY stage ORDER BY stage"
)
_POLLS = text(
    "SELECT count(*) AS watched, count(*) FILTER (WHERE next_poll_at <= now()) AS due, "
    "coalesce(extract(epoch FROM now() - min(next_poll_at) FILTER (WHERE next_poll_at <= now())), 0) "
    "AS overdue FROM generations WHERE next_poll_at IS NOT NULL AND status IN ('PENDING', 'RUNNING')"
)
_OUTBOX = text(
    "SELECT count(*) AS unpublished, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest "
    "FROM outbox WHERE published_at IS NULL"
)
_WEBHOOKS = text(
    "SELECT count(*) AS pending, count(*) FILTER (WHERE next_attempt_at <= now()) AS due "
    "FROM webhook_deliveries WHERE delivered_at IS NULL AND gave_up_at IS NULL"
)


async def kafka_backlog(settings: Settings) -> dict[str, Any]:
    lag: list[dict[str, Any]] = []
    async with kafka.reader(settings) as consumer, kafka.admin(settings) as admin:
        for group, group_topics in GROUPS.items():
            for topic in group_topics:
                partitions = await kafka.partitions(admin, topic)
                if not partitions:
                    lag.append({"group": group, "topic": topic, "lag": None, "missing": True})
                    continue
                committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
                starts = await consumer.beginning_offsets(partitions)
                ends = await consumer.end_offsets(partitions)
                behind = sum(ends[tp] - _position(committed.get(tp), starts[tp]) for tp in partitions)
                lag.append({"group": group, "topic": topic, "lag": behind, "partitions": len(partitions)})
        dead = await kafka.partitions(admin, topics.DEAD_LETTER)
        starts, ends = await consumer.beginning_offsets(dead), await consumer.end_offsets(dead)
    return {"lag": lag, "dead_letters": sum(ends[tp] - starts[tp] for tp in dead)}


def _position(committed: Any, start: int) -> int:
    offset = -1 if committed is None else committed.offset
    return max(offset, start)  # none committed, or behind what retention kept: from the start


async def database_backlog(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with sessions() as session:
        retries = (await session.execute(_RETRIES)).mappings().all()
        polls = (await session.execute(_POLLS)).mappings().one()
        pending = (await session.execute(_OUTBOX)).mappings().one()
        webhooks = (await session.execute(_WEBHOOKS)).mappings().one()
    return {
        "stage_retries": [_plain(r) for r in retries],
        "poll_schedule": _plain(polls),
        "outbox": _plain(pending),
        "webhook_deliveries": _plain(webhooks),
    }


def _plain(row: Any) -> dict[str, Any]:
    return {k: round(float(v), 1) if k in ("overdue", "oldest") else v for k, v in dict(row).items()}


def render(found: dict[str, Any]) -> str:
    lines = ["kafka lag (records not yet committed by the group):"]
    for row in found["lag"]:
        shown = "topic missing" if row.get("missing") else f"{row['lag']} ({row['partitions']} partitions)"
        lines.append(f"  {row['group']:<12} {row['topic']:<22} {shown}")
    lines.append(f"dead letters on {topics.DEAD_LETTER}: {found['dead_letters']}")
    lines.append("stored stage retries (due now / in all, most overdue):")
    lines += [
        f"  {r['stage']:<12} {r['due']} / {r['total']}, {r['overdue']}s" for r in found["stage_retries"]
    ] or ["  none"]
    p, o, w = found["poll_schedule"], found["outbox"], found["webhook_deliveries"]
    lines.append(
        f"poll schedule: {p['watched']} task(s) watched, {p['due']} due, most overdue {p['overdue']}s"
    )
    lines.append(f"outbox: {o['unpublished']} unpublished, the oldest {o['oldest']}s old")
    lines.append(f"webhook deliveries: {w['pending']} pending, {w['due']} due")
    return "\n".join(lines)
