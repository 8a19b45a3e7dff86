"""Dependency aliases: everything a route needs comes from the app's state, built in main.py."""

from __future__ import annotations

from typing import Annotated

from common.db.models import Client
from common.media import MediaStore
from common.outbox import Relay
from common.settings import Settings
from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import clients
from gateway.catalogue import Catalogue
from gateway.status_hub import StatusHub


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


async def _media(request: Request) -> MediaStore:
    media: MediaStore = request.app.state.media
    return media


async def _relay(request: Request) -> Relay:
    relay: Relay = request.app.state.relay
    return relay


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


CatalogueDep = Annotated[Catalogue, Depends(_catalogue)]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
RelayDep = Annotated[Relay, Depends(_relay)]
MediaDep = Annotated[MediaStore, Depends(_media)]
SettingsDep = Annotated[Settings, Depends(_settings)]


async def _client(
    sessions: SessionsDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Client | None:
    """The calling client in `keys` mode (401 without a valid key); None in `open` mode."""
    if settings.access_mode == "open":
        return None
    return await clients.authenticate(sessions, clients.presented_key(authorization, x_api_key))


ClientDep = Annotated[Client | None, Depends(_client)]


async def _status_hub(request: Request) -> StatusHub:
    hub: StatusHub = request.app.state.status_hub
    return hub


StatusHubDep = Annotated[StatusHub, Depends(_status_hub)]
