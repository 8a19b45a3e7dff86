"""Follow the product's public events: one line `ce_type ce_subject video_url` per fact, each fact once."""

import asyncio
import json
import os

from aiokafka import AIOKafkaConsumer

TOPICS = ("generation.completed", "generation.failed", "generation.canceled")


async def main() -> None:
    consumer = AIOKafkaConsumer(
        *TOPICS,
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        group_id=os.environ.get("GROUP_ID", "my-team.dancer-events"),  # your own consumer group
        auto_offset_reset="earliest",  # a new group starts at the oldest event still kept (7 days)
    )
    seen: set[str] = set()  # at least once: a fact can come twice; in production, a unique key in your DB
    async with consumer:
        async for record in consumer:
            headers = {key: value.decode() for key, value in record.headers}
            if headers["ce_id"] in seen:
                continue
            seen.add(headers["ce_id"])
            event = json.loads(record.value)
            print(headers["ce_type"], headers["ce_subject"], event.get("video_url", "-"), flush=True)


asyncio.run(main())
