"""Settings shared by every process; read from the environment, never at import time."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMULATOR_API_KEY = "sk-emulator"
EMULATOR_BASE_URL = "http://127.0.0.1:8100/api/v1"
DASHSCOPE_BASE_URL = "https://dashscope.aliyuncs.com/api/v1"
CUTOUT_EMULATOR_API_KEY = "cutout-emulator"
CUTOUT_EMULATOR_BASE_URL = "http://127.0.0.1:8100/cutout/api/v1"
CUTOUT_BASE_URL = "https://www.cutout.pro/api/v1"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # --- Kafka on a real cluster: TLS and SASL; how topics are created ---
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_ca_file: str = ""  # a PEM file of the CA that signed the brokers' certificates; "": system CAs
    kafka_replication_factor: int = Field(default=1, ge=1)  # of the topics the product creates
    kafka_min_insync_replicas: int = Field(default=1, ge=1)
    # Every process creates missing topics at start (handy for `make run`); on a cluster the setup job
    # (`python -m common.setup`) creates them once and processes set this to false.
    create_topics_at_start: bool = True
    database_url: str = "postgresql+asyncpg://dancer@127.0.0.1:55432/dancer"
    database_pool_size: int = Field(default=5, ge=1)
    database_statement_timeout_ms: int = Field(default=30_000, ge=0)  # 0: none
    # --- seeing what a process does ---
    log_format: Literal["json", "text"] = "json"
    # Stages and the notifier serve /healthz, /readyz and /metrics here (port 0: not at all); the
    # gateway serves them on its own port.
    health_host: str = "127.0.0.1"
    health_port: int = Field(default=0, ge=0, le=65535)
    # OpenTelemetry traces go to this OTLP/HTTP endpoint (`<it>/v1/traces`); empty: no tracing (see
    # `common.tracing` for the other standard OTEL_* variables that apply).
    otel_exporter_otlp_endpoint: str = ""
    # Defaults to the emulator, or to real DashScope (Beijing) once a real API key is set.
    dashscope_base_url: str = EMULATOR_BASE_URL
    dashscope_api_key: SecretStr = SecretStr(EMULATOR_API_KEY)
    dashscope_timeout_seconds: float = Field(default=30.0, gt=0)
    # cutout.pro Photo Animer: the emulator (served by the same process under /cutout), or the real
    # service once a real key is set. Its account-wide pace: submits and job status queries per second.
    cutout_base_url: str = CUTOUT_EMULATOR_BASE_URL
    cutout_api_key: SecretStr = SecretStr(CUTOUT_EMULATOR_API_KEY)
    cutout_submit_rate_per_second: float = Field(default=1.0, gt=0)
    cutout_poll_rate_per_second: float = Field(default=5.0, gt=0)
    # cutout.pro fetches the photo from the product's own signed media link, valid this long, made on
    # PROVIDER_MEDIA_BASE_URL: where the provider reaches the gateway (empty: PUBLIC_BASE_URL; e.g. the
    # gateway's in-cluster name when the provider is the emulator next to it).
    cutout_photo_link_seconds: float = Field(default=3600.0, gt=0)
    provider_media_base_url: str = ""
    # The secret path token of the completion callback registered with cutout.pro
    # (PUBLIC_BASE_URL/api/providers/cutout/callback/<token>); empty: no callback endpoint, polling only.
    cutout_callback_token: SecretStr = SecretStr("")
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
    # --- the gateway's door ---
    # Image URLs a client may send: https only, to hosts that resolve to public addresses. `make run` and
    # the tests allow plain http and the local emulator's host.
    image_url_allow_http: bool = False
    image_url_allowed_hosts: str = ""  # comma-separated host names or IPs exempt from the address check
    # A whole request, multipart included (photos: each provider's own limit, at most 15 MB).
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_json_bytes: int = Field(default=64 * 1024, ge=256)
    max_json_depth: int = Field(default=16, ge=2)
    # `open`: no credentials (the original's behaviour). `keys`: every /api call needs an API key.
    access_mode: Literal["open", "keys"] = "open"
    cors_origins: str = ""  # comma-separated origins allowed to call from a browser; "*" for any
    client_rate_per_minute: float = Field(default=60.0, gt=0)  # generations a client may create per minute
    client_max_in_flight: int = Field(default=10, ge=1)  # generations of one client not yet finished
    idempotency_ttl_seconds: float = Field(default=24 * 3600, gt=0)
    sse_keepalive_seconds: float = Field(default=15.0, gt=0)
    # Retryable provider errors (429, 5xx, timeouts) are retried later, off the partition.
    retry_attempts: int = Field(default=6, ge=1)
    # Throttling (429) means "later", not "broken": it counts only against this budget of attempts in all.
    throttled_attempts: int = Field(default=30, ge=1)
    retry_base_seconds: float = Field(default=1.0, gt=0)
    retry_max_seconds: float = Field(default=60.0, gt=0)
    # On SIGTERM: stop consuming, finish in-flight work for up to this long, commit, exit.
    shutdown_timeout_seconds: float = Field(default=20.0, gt=0)
    # --- results that last: the media store ---
    # Where clients reach the gateway: media links and event schema links are made from it.
    public_base_url: str = "http://127.0.0.1:8000"
    # `local`: files under `media_dir`, served by the gateway. `s3`: any S3-compatible object storage.
    media_backend: Literal["local", "s3"] = "local"
    media_dir: str = ".data/media"
    # Signs the product's media links (HMAC-SHA256); set a long random value in production.
    media_signing_key: SecretStr = SecretStr("dev-media-signing-key")
    # How long videos, posters and their links last after the video is stored; 0 keeps them forever.
    media_retention_seconds: float = Field(default=30 * 24 * 3600, ge=0)
    # A photo is deleted this long after its generation ended (the provider has its own copy by then);
    # 0 keeps photos forever.
    photo_retention_seconds: float = Field(default=24 * 3600, ge=0)
    retention_interval_seconds: float = Field(default=60.0, gt=0)
    s3_endpoint_url: str = ""  # empty: AWS itself; e.g. https://oss-cn-beijing.aliyuncs.com, MinIO's URL
    s3_bucket: str = "dancer-media"
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr = SecretStr("")
    s3_secret_access_key: SecretStr = SecretStr("")
    # A media link answers with a redirect to a presigned S3 URL valid this long.
    s3_presign_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    # One S3 call gives up after this long (then the work is tried again later, nothing is lost).
    s3_timeout_seconds: float = Field(default=30.0, gt=0)
    # The archiver refuses a provider video larger than this, or longer than `max_video_seconds`.
    max_video_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    max_video_seconds: float = Field(default=120.0, gt=0)
    archive_timeout_seconds: float = Field(default=120.0, gt=0)
    # --- signed webhooks ---
    # Standard Webhooks secret (`whsec_` + base64); every delivery is signed with it.
    webhook_secret: SecretStr = SecretStr("whsec_ZGV2LXdlYmhvb2stc2lnbmluZy1rZXktY2hhbmdlLW1l")
    # Seconds between delivery attempts (the last repeats until `webhook_give_up_seconds`).
    webhook_backoff_seconds: str = "5,30,120,600,1800,3600,7200,14400"
    webhook_give_up_seconds: float = Field(default=26 * 3600, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Callback URLs: https to public addresses only, unless relaxed like image URLs.
    callback_url_allow_http: bool = False
    callback_url_allowed_hosts: str = ""

    @property
    def image_url_hosts(self) -> frozenset[str]:
        return _csv(self.image_url_allowed_hosts)

    @property
    def callback_url_hosts(self) -> frozenset[str]:
        return _csv(self.callback_url_allowed_hosts)

    @property
    def webhook_backoff(self) -> list[float]:
        return [float(part) for part in self.webhook_backoff_seconds.split(",") if part.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return sorted(_csv(self.cors_origins))

    @model_validator(mode="before")
    @classmethod
    def _real_key_means_real_provider(cls, values: Any) -> Any:
        if isinstance(values, dict):
            key = values.get("dashscope_api_key")
            if key and str(key) != EMULATOR_API_KEY and not values.get("dashscope_base_url"):
                values = {**values, "dashscope_base_url": DASHSCOPE_BASE_URL}
            key = values.get("cutout_api_key")
            if key and str(key) != CUTOUT_EMULATOR_API_KEY and not values.get("cutout_base_url"):
                values = {**values, "cutout_base_url": CUTOUT_BASE_URL}
        return values


def _csv(value: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def load_settings() -> Settings:
    return Settings()
