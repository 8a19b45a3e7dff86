"""The providers a deployment talks to, by the name templates and generations give (`Template.provider`).

Adding a provider: one adapter module implementing the ports of `common.providers.ports`, its entry in
`make_providers`, its photo limits (`common.providers.photo_limits`), an emulator, and templates in the
catalogue (README, "Adding a provider").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.db.rate_limits import AccountRates
from common.providers import cutout_ports, dashscope_ports
from common.providers.cutout import CutoutClient
from common.providers.dashscope import DashScopeClient
from common.providers.ports import PhotoCheck, PhotoStorage, VideoJobs
from common.settings import Settings

# The providers whose jobs can make a GIF as well as the MP4 (`outputFormat` gif).
MAKES_GIFS = frozenset({cutout_ports.NAME})


@dataclass(frozen=True)
class Provider:
    name: str
    storage: PhotoStorage
    check: PhotoCheck
    jobs: VideoJobs
    poll_rate_per_second: float  # job status queries, the whole account, every replica together


@dataclass(frozen=True)
class Providers:
    """Each port by provider name, as the stages use them (`storages[generation.provider]`)."""

    storages: Mapping[str, PhotoStorage]
    checks: Mapping[str, PhotoCheck]
    jobs: Mapping[str, VideoJobs]
    poll_rates: Mapping[str, float]

    @classmethod
    def of(cls, *providers: Provider) -> Providers:
        return cls(
            storages={p.name: p.storage for p in providers},
            checks={p.name: p.check for p in providers},
            jobs={p.name: p.jobs for p in providers},
            poll_rates={p.name: p.poll_rate_per_second for p in providers},
        )


def make_providers(
    settings: Settings, http: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> Providers:
    """Every provider's adapters, sharing `http`; each paced by its own account-wide token buckets."""
    dashscope = DashScopeClient(
        http,
        settings.dashscope_api_key,
        settings.dashscope_base_url,
        attempts=1,  # one attempt per call: retries are scheduled by the stage, off the partition
        pace=AccountRates(
            sessions,
            {"detect": settings.detect_rate_per_second, "submit": settings.submit_rate_per_second},
            provider=dashscope_ports.NAME,
        ),
    )
    cutout = CutoutClient(
        http,
        settings.cutout_api_key,
        settings.cutout_base_url,
        pace=AccountRates(
            sessions,
            {"submit": settings.cutout_submit_rate_per_second},  # queries: the poll schedule's budget
            provider=cutout_ports.NAME,
        ),
    )
    media_base = settings.provider_media_base_url or settings.public_base_url
    return Providers.of(
        Provider(
            dashscope_ports.NAME,
            dashscope_ports.DashScopePhotoStorage(dashscope),
            dashscope_ports.DashScopePhotoCheck(dashscope),
            dashscope_ports.DashScopeVideoJobs(dashscope),
            settings.poll_rate_per_second,
        ),
        Provider(
            cutout_ports.NAME,
            cutout_ports.CutoutPhotoStorage(
                media_base, settings.media_signing_key.get_secret_value(), settings.cutout_photo_link_seconds
            ),
            cutout_ports.CutoutPhotoCheck(),
            cutout_ports.CutoutVideoJobs(cutout),
            settings.cutout_poll_rate_per_second,
        ),
    )
