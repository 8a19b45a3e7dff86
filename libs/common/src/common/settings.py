"""Settings shared by every process; read from the environment, never at import time."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMULATOR_API_KEY = "sk-emulator"
EMULATOR_BASE_URL = "http://127.0.0.1:8100/api/v1"
DASHSCOPE_BASE_URL = "https://dashscope.aliyuncs.com/api/v1"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    database_url: str = "postgresql+asyncpg://dancer@127.0.0.1:55432/dancer"
    # Defaults to the emulator, or to real DashScope (Beijing) once a real API key is set.
    dashscope_base_url: str = EMULATOR_BASE_URL
    dashscope_api_key: SecretStr = SecretStr(EMULATOR_API_KEY)
    dashscope_timeout_seconds: float = Field(default=30.0, gt=0)
    topic_partitions: int = Field(default=12, ge=1)
    # How many partitions one stage process works on at once (one consumer each).
    stage_concurrency: int = Field(default=4, ge=1)
    poll_interval_seconds: float = Field(default=2.0, gt=0)
    poll_batch_size: int = Field(default=20, ge=1)
    # Account-wide task queries per second, shared by every poller replica (DashScope allows 20).
    poll_rate_per_second: float = Field(default=15.0, gt=0)
    # A job with no result after this long ends as TIMED_OUT (DashScope itself gives up after 3 h).
    poll_deadline_seconds: float = Field(default=3 * 3600, gt=0)
    # Account-wide pace of the calls DashScope limits per account (about 5 detections/s, 1 submit/s),
    # shared by every replica, so that 429s stay rare instead of being retried blindly.
    detect_rate_per_second: float = Field(default=4.0, gt=0)
    submit_rate_per_second: float = Field(default=1.0, gt=0)
    max_image_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    # Retryable provider errors (429, 5xx, timeouts) are retried later, off the partition.
    retry_attempts: int = Field(default=6, ge=1)
    # Throttling (429) means "later", not "broken": it counts only against this budget of attempts in all.
    throttled_attempts: int = Field(default=30, ge=1)
    retry_base_seconds: float = Field(default=1.0, gt=0)
    retry_max_seconds: float = Field(default=60.0, gt=0)
    # On SIGTERM: stop consuming, finish in-flight work for up to this long, commit, exit.
    shutdown_timeout_seconds: float = Field(default=20.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _real_key_means_real_provider(cls, values: Any) -> Any:
        if isinstance(values, dict):
            key = values.get("dashscope_api_key")
            if key and str(key) != EMULATOR_API_KEY and not values.get("dashscope_base_url"):
                values = {**values, "dashscope_base_url": DASHSCOPE_BASE_URL}
        return values


def load_settings() -> Settings:
    return Settings()
