"""Emulator configuration, read from `EMULATOR_*` environment variables."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

HOUR = 3600.0


def _temp_data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="dashscope-emulator-"))


class EmulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMULATOR_", env_file=None, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=0, le=65535)
    # Base URL clients use to reach this process; defaults to http://{host}:{port}.
    public_url: str = ""
    # Files, task inputs, videos and the state database; reuse it to keep state across restarts.
    data_dir: Path = Field(default_factory=_temp_data_dir)
    # Signs upload policies and video URLs; unless set, made once and kept in the data dir.
    signing_secret: SecretStr | None = None

    # Task lifecycle; the defaults (about a minute) are a short real job.
    pending_seconds: float = Field(default=1.0, ge=0)
    preprocess_seconds: float = Field(default=10.0, ge=0)
    run_seconds: float = Field(default=40.0, ge=0)
    postprocess_seconds: float = Field(default=5.0, ge=0)
    # A task with no result after this long ends FAILED `InternalError.Timeout` (3 h at DashScope).
    stuck_task_seconds: float = Field(default=3 * HOUR, gt=0)

    video_seconds: float = Field(default=5.0, gt=0, le=60)
    # "each": every task renders its photo; "once": one render per template and size, copied to
    # every later task (for benchmarks, where the provider must answer at once and cost no CPU).
    render: Literal["each", "once"] = "each"
    video_url_ttl_seconds: float = Field(default=24 * HOUR, ge=0)
    policy_ttl_seconds: int = Field(default=300, ge=0)
    # Largest file an upload policy allows (`max_file_size_mb`).
    upload_max_mb: int = Field(default=100, ge=1)
    file_retention_seconds: float = Field(default=48 * HOUR, ge=0)
    task_retention_seconds: float = Field(default=24 * HOUR, ge=0)
    download_timeout_seconds: float = Field(default=10.0, gt=0)

    # Run-time configuration (see config.py), JSON each; also at GET/PUT /admin/config.
    seed: int = 0
    faults: str = ""
    quotas: str = ""
    accounts: str = ""
    task_fates: str = ""
    outage: str = ""
    timeout_seconds: float = Field(default=30.0, ge=0)
    detect_limit_failures: Literal["http400", "check_pass"] = "http400"
    # cutout.pro (emulators.cutout). Run-time ones (also at /admin/config): how long a job processes, how
    # many jobs of one account process at once (0: no limit), where completion notices go (JSON for the
    # per-account URLs).
    cutout_run_seconds: float = Field(default=3.0, ge=0)
    cutout_jobs_per_account: int = Field(default=1, ge=0)
    cutout_callback_url: str = ""
    cutout_callback_urls: str = ""
    # A notice is tried this many times, each POST limited to this long, with 0.5 s, 1 s, ... between.
    cutout_callback_attempts: int = Field(default=3, ge=1)
    cutout_callback_timeout_seconds: float = Field(default=2.0, gt=0)
    # How long `resultUrl` / `gifUrl` stay valid after the job ends (undocumented: the emulator's choice).
    cutout_result_ttl_seconds: float = Field(default=24 * HOUR, ge=0)

    @model_validator(mode="after")
    def _default_public_url(self) -> EmulatorSettings:
        if not self.public_url:
            self.public_url = f"http://{self.host}:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        return self

    @property
    def secret(self) -> str:
        assert self.signing_secret is not None, "create_app fills in the signing secret"
        return self.signing_secret.get_secret_value()
