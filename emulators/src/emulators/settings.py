"""Emulator configuration, read from `EMULATOR_*` environment variables."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _temp_data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="dashscope-emulator-"))


def _random_secret() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(24))


class EmulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMULATOR_", env_file=None, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=0, le=65535)
    # Base URL clients use to reach this process; defaults to http://{host}:{port}.
    public_url: str = ""
    data_dir: Path = Field(default_factory=_temp_data_dir)
    # Signs upload policies and video URLs; random per process unless set.
    signing_secret: SecretStr = Field(default_factory=_random_secret)

    # Task lifecycle; the defaults add up to ~25 s, like a short real job.
    pending_seconds: float = Field(default=2.0, ge=0)
    preprocess_seconds: float = Field(default=5.0, ge=0)
    run_seconds: float = Field(default=15.0, ge=0)
    postprocess_seconds: float = Field(default=3.0, ge=0)

    video_seconds: float = Field(default=3.0, gt=0, le=60)
    video_url_ttl_seconds: int = Field(default=24 * 3600, ge=0)
    policy_ttl_seconds: int = Field(default=300, ge=0)
    download_timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _default_public_url(self) -> EmulatorSettings:
        if not self.public_url:
            self.public_url = f"http://{self.host}:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        return self
