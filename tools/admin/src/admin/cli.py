"""dancer-admin: the operator's tools. Reads the same environment as every process (DATABASE_URL,
KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL...). Exit status: 0 done, 1 refused or failed, 2 usage."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from common.db.session import make_engine, make_sessionmaker
from common.settings import Settings, load_settings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin import backlog, dead_letters, history
from admin.retry import Refused, retry

REPLAY_HELP = (
    "Re-publish dead letters' original bytes to their original topic, key kept, with a `dlq_replayed` "
    "header. A stage that dead-letters a message also fails its generation (UnprocessableMessage), and "
    "stages leave ended generations alone: such a generation stays FAILED (the command names it) unless "
    "--retry is given, which retries it instead (as `dancer-admin retry`: it runs again from the start "
    "with fresh events, so its dead letters are not re-published)."
)
RETRY_HELP = (
    "Send a generation that failed for a passing reason (its GenerationFailed said retryable: an outage, "
    "a timeout, a dead video link; or UnprocessableMessage) through the pipeline again: QUEUED, with a "
    "new GenerationRequested (attempt + 1, its own ce_id) in the same transaction. The provider job is "
    "kept unless it is what failed. Refused otherwise (e.g. a rejected photo, a cancel)."
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dancer-admin", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    dl = sub.add_parser("dead-letters", help="list or replay the dead-letter topic")
    dl_sub = dl.add_subparsers(dest="action", required=True)
    listing = dl_sub.add_parser("list", help="the dead letters, oldest first")
    listing.add_argument("--generation", type=uuid.UUID, metavar="ID", help="only this generation's")
    listing.add_argument("--json", action="store_true", help="one JSON document")
    rp = dl_sub.add_parser("replay", help="re-publish dead letters", description=REPLAY_HELP)
    which = rp.add_mutually_exclusive_group(required=True)
    which.add_argument("--generation", type=uuid.UUID, metavar="ID", help="this generation's dead letters")
    which.add_argument("--all", action="store_true", help="every dead letter on the topic")
    rp.add_argument("--retry", action="store_true", help="retry their failed generations instead")
    rt = sub.add_parser("retry", help="run a failed generation again", description=RETRY_HELP)
    rt.add_argument("generation", type=uuid.UUID, metavar="GENERATION_ID")
    hs = sub.add_parser("history", help="a generation's row, status changes, retries, outbox, webhooks")
    hs.add_argument("generation", type=uuid.UUID, metavar="GENERATION_ID")
    hs.add_argument("--json", action="store_true", help="one JSON document")
    bl = sub.add_parser("backlog", help="Kafka lag per stage, stored retries, poll schedule, outbox")
    bl.add_argument("--json", action="store_true", help="one JSON document")
    return p


def _print(found: Any, as_json: bool, text: str) -> None:
    print(json.dumps(found, indent=2, default=str) if as_json else text)


async def _dead_letters(args: argparse.Namespace, settings: Settings, sessions: Sessions) -> int:
    letters = await dead_letters.read(settings, args.generation)
    if args.action == "list":
        text = "\n".join(dead_letters.describe(d) for d in letters) or "no dead letters"
        _print([d.as_dict() for d in letters], args.json, text)
        return 0
    if not letters:
        print("no dead letters to replay")
        return 0
    for line in await dead_letters.replay(settings, sessions, letters, retry_failed=args.retry):
        print(line)
    return 0


async def run(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings, pool_size=1)
    sessions = make_sessionmaker(engine)
    try:
        if args.command == "dead-letters":
            return await _dead_letters(args, settings, sessions)
        if args.command == "retry":
            print(f"retried {await retry(sessions, args.generation)}")
        elif args.command == "history":
            found = await history.history(sessions, args.generation)
            if not found:
                raise Refused(f"no generation {args.generation}")
            _print(found, args.json, history.render(found))
        else:
            found = {**await backlog.kafka_backlog(settings), **await backlog.database_backlog(sessions)}
            _print(found, args.json, backlog.render(found))
        return 0
    finally:
        await engine.dispose()


Sessions = async_sessionmaker[AsyncSession]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(run(args, load_settings()))
    except Refused as exc:
        print(f"dancer-admin: {exc}", file=sys.stderr)
        return 1
