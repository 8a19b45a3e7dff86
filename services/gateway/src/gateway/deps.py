"""Dependency aliases: everything a route needs comes from the app's state, built in main.py."""

from __future__ import annotations

from typing import Annotated

from common.outbox import Relay
from common.settings import Settings
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


def _relay(request: Request) -> Relay:
    relay: Relay = request.app.state.relay
    return relay


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
RelayDep = Annotated[Relay, Depends(_relay)]
SettingsDep = Annotated[Settings, Depends(_settings)]
