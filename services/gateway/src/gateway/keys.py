"""`python -m gateway.keys` (or `dancer-keys`): create, list and revoke the API's clients (access
mode `keys`) in the database of DATABASE_URL. A new key is printed once; only its SHA-256 is stored."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from common.db.models import Client
from common.db.session import make_engine, make_sessionmaker
from common.settings import Settings, load_settings
from common.urls import UrlRefused, check_callback_url
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import clients

PREFIX_LENGTH = 8
Sessions = async_sessionmaker[AsyncSession]


async def create_client(
    sessions: Sessions,
    name: str,
    rate_per_minute: float | None = None,
    max_in_flight: int | None = None,
    callback_url: str | None = None,
) -> tuple[Client, str]:
    key = clients.new_key()
    client = Client(
        id=uuid.uuid4(),
        name=name,
        key_hash=clients.hash_key(key),
        key_prefix=key[:PREFIX_LENGTH],
        rate_per_minute=rate_per_minute,
        max_in_flight=max_in_flight,
        callback_url=callback_url,
    )
    async with sessions.begin() as session:
        session.add(client)  # (its created_at comes back with the INSERT's RETURNING)
    return client, key


async def list_clients(sessions: Sessions) -> list[Client]:
    async with sessions() as session:
        return list(await session.scalars(select(Client).order_by(Client.created_at, Client.id)))


async def revoke_client(sessions: Sessions, id_or_prefix: str) -> Client:
    """Revokes the client with this id or key prefix; LookupError unless exactly one matches."""
    try:
        where = Client.id == uuid.UUID(id_or_prefix)
    except ValueError:
        where = Client.key_prefix == id_or_prefix
    async with sessions.begin() as session:
        found = list(await session.scalars(select(Client).where(where).with_for_update()))
        if len(found) > 1:  # prefixes can collide: the one still active is meant
            found = [c for c in found if c.revoked_at is None]
        if len(found) != 1:
            raise LookupError(f"{'several' if found else 'no'} clients match {id_or_prefix!r}; use the id")
        if found[0].revoked_at is None:
            found[0].revoked_at = datetime.now(UTC)
    return found[0]


def _row(c: Client) -> str:
    rate = "default" if c.rate_per_minute is None else f"{c.rate_per_minute:g}"
    in_flight = "default" if c.max_in_flight is None else str(c.max_in_flight)
    created, revoked = (
        at.isoformat(timespec="seconds") if at else "-" for at in (c.created_at, c.revoked_at)
    )
    return (
        f"{c.id}  {c.name}  {c.key_prefix}  created {created}  revoked {revoked}  "
        f"rate/min {rate}  max in flight {in_flight}  callback {c.callback_url or '-'}"
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dancer-keys", description="Manage the API's clients and their keys.")
    commands = p.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a client; prints its key, only this once")
    create.add_argument("name")
    create.add_argument("--rate-per-minute", type=float, help="default: CLIENT_RATE_PER_MINUTE")
    create.add_argument("--max-in-flight", type=int, help="default: CLIENT_MAX_IN_FLIGHT")
    create.add_argument(
        "--callback-url",
        help="webhook URL for the client's generations that name none (CALLBACK_URL_* rules)",
    )
    commands.add_parser("list", help="the clients and their limits (never their keys)")
    revoke = commands.add_parser("revoke", help="revoke a client's key at once")
    revoke.add_argument("client", metavar="CLIENT_ID_OR_PREFIX")
    return p


async def run(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "create" and args.callback_url is not None:
        await check_callback_url(
            args.callback_url,
            allow_http=settings.callback_url_allow_http,
            allowed_hosts=settings.callback_url_hosts,
        )
    engine = make_engine(settings, pool_size=1)
    sessions = make_sessionmaker(engine)
    try:
        if args.command == "create":
            client, key = await create_client(
                sessions, args.name, args.rate_per_minute, args.max_in_flight, args.callback_url
            )
            print(f"client id: {client.id}\nkey: {key}\nStore the key now: it is not shown again.")
        elif args.command == "list":
            for c in await list_clients(sessions):
                print(_row(c))
        else:
            print(f"revoked: {_row(await revoke_client(sessions, args.client))}")
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    limits = (args.rate_per_minute, args.max_in_flight) if args.command == "create" else ()
    if not all(limit is None or limit > 0 for limit in limits):  # (nan is not > 0 either)
        p.error("--rate-per-minute and --max-in-flight must be more than 0")
    try:
        asyncio.run(run(args, load_settings()))
    except LookupError as exc:
        p.exit(1, f"dancer-keys: {exc}\n")
    except UrlRefused as exc:
        p.error(f"--callback-url: {exc.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
