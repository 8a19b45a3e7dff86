"""Run-time configuration: faults, quotas, accounts, scripted task fates, and cutout.pro's jobs and notices.

Read from `EMULATOR_*` at start (JSON in one variable each) and replaceable through
`GET/PUT /admin/config`, with the same shapes in both places.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from emulators.settings import EmulatorSettings

# Names of the rate quotas and the endpoints each one counts (DashScope's documented numbers).
QUOTA_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "task_query": ("GET /api/v1/tasks/{task_id}", "GET /api/v1/tasks"),
    "detect": ("POST /api/v1/services/aigc/image2video/aa-detect",),
    "upload_policy": ("GET /api/v1/uploads",),
    "submit": (
        "POST /api/v1/services/aigc/image2video/video-synthesis",
        "POST /api/v1/services/aigc/image2video/aa-template-generation",
    ),
    # cutout.pro documents no rate limits: these are the emulator's, per account.
    "cutout_submit": ("GET /cutout/api/v1/faceDriven/submitTaskByUrl",),
    "cutout_query": ("GET /cutout/api/v1/faceDriven/getTaskInfo",),
}
ACTIVE_PHASES = ("PRE-PROCESSING", "RUNNING", "POST-PROCESSING")


def _http_url(url: str) -> str:
    if url and not url.startswith(("http://", "https://")):
        raise ValueError(f"a callback URL must be http(s)://..., not {url!r}")
    return url


CallbackUrl = Annotated[str, AfterValidator(_http_url)]  # "" for none


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuotaSpec(_Strict):
    """A token bucket: `rate` calls per second, up to `burst` at once (default: `rate`)."""

    rate: float = Field(gt=0)
    burst: float | None = Field(default=None, ge=1)
    code: str = "Throttling.RateQuota"

    @property
    def capacity(self) -> float:
        return self.burst if self.burst is not None else max(1.0, self.rate)


DEFAULT_QUOTAS: dict[str, QuotaSpec | None] = {
    "task_query": QuotaSpec(rate=20),  # per account, all keys together
    "detect": QuotaSpec(rate=5),  # per account
    "upload_policy": QuotaSpec(rate=100),  # per account and model
    "submit": QuotaSpec(rate=1, burst=2),  # per account and model; sources say 1-5/s
    "cutout_submit": QuotaSpec(rate=2, burst=5),  # per account (undocumented: the emulator's choice)
    "cutout_query": QuotaSpec(rate=10, burst=20),  # per account (likewise)
}


class FaultSpec(_Strict):
    """Faults for one endpoint: a latency range and the chance of each failure, per call."""

    latency_ms: tuple[float, float] = (0.0, 0.0)
    p429: float = Field(default=0, ge=0, le=1)
    p500: float = Field(default=0, ge=0, le=1)
    p503: float = Field(default=0, ge=0, le=1)
    preset: float = Field(default=0, ge=0, le=1)
    ptimeout: float = Field(default=0, ge=0, le=1)
    # Override the provider code sent with an injected status, e.g. {"500": "InternalError.Algo"}.
    codes: dict[str, str] = {}

    @model_validator(mode="after")
    def _check(self) -> FaultSpec:
        low, high = self.latency_ms
        if not 0 <= low <= high:
            raise ValueError("latency_ms must be [min, max] with 0 <= min <= max")
        if self.p429 + self.p500 + self.p503 + self.preset + self.ptimeout > 1:
            raise ValueError("the fault probabilities add up to more than 1")
        return self


class Fate(_Strict):
    """How a task ends: `fail` with a code in a phase, `never` finish, or `succeed`."""

    fate: Literal["fail", "never", "succeed"] = "fail"
    code: str = "InternalError.Algo"
    message: str = "An internal error occurred in the algorithm."
    phase: Literal["PRE-PROCESSING", "RUNNING", "POST-PROCESSING"] = "RUNNING"


class FateRule(Fate):
    """A scripted fate for submits matching all given selectors (none: every submit)."""

    model_config = ConfigDict(extra="forbid", frozen=False)

    sha256: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")
    model: str | None = None
    # Applies to the next N matching submits only, then the rule is dropped.
    next: int | None = Field(default=None, ge=1)
    probability: float = Field(default=1.0, ge=0, le=1)

    def to_fate(self) -> Fate:
        return Fate(fate=self.fate, code=self.code, message=self.message, phase=self.phase)


class OutageSpec(_Strict):
    """Every non-admin endpoint answers `status` (or resets) for `seconds`, from `start_in` on."""

    seconds: float = Field(gt=0)
    status: Annotated[int, Field(ge=400, le=599)] | Literal["reset"] = 503
    start_in: float = Field(default=0, ge=0)


class RuntimeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    seed: int = 0
    faults: dict[str, FaultSpec] = {}
    quotas: dict[str, QuotaSpec | None] = Field(default_factory=lambda: dict(DEFAULT_QUOTAS))
    # Account name -> its API keys. Empty: any `sk-...` key is valid and is its own account.
    accounts: dict[str, list[str]] = {}
    task_fates: list[FateRule] = []
    # How long an injected `timeout` holds the request before answering 504.
    timeout_seconds: float = Field(default=30.0, ge=0)
    # Photos outside the size limits: HTTP 400 InvalidFile.* or HTTP 200 `check_pass: false`.
    detect_limit_failures: Literal["http400", "check_pass"] = "http400"
    # cutout.pro: where a job's completion notice is POSTed: the account's own URL (by account name, as
    # in `accounts`), else `cutout_callback_url`; "" sends none.
    cutout_callback_url: CallbackUrl = ""
    cutout_callback_urls: dict[str, CallbackUrl] = {}
    # How long a cutout.pro job processes, and how many jobs of one account process at once (0: no limit).
    cutout_run_seconds: float = Field(default=3.0, ge=0)
    cutout_jobs_per_account: int = Field(default=1, ge=0)

    @field_validator("faults", "accounts", "task_fates", "cutout_callback_urls", mode="before")
    @classmethod
    def _decode(cls, value: Any) -> Any:
        return _json(value)

    @field_validator("faults", mode="after")
    @classmethod
    def _endpoint_names(cls, value: dict[str, FaultSpec]) -> dict[str, FaultSpec]:
        return {normalize_endpoint(name): spec for name, spec in value.items()}

    @field_validator("quotas", mode="before")
    @classmethod
    def _quotas(cls, value: Any) -> Any:
        return parse_quotas(value)

    @field_validator("accounts", mode="after")
    @classmethod
    def _accounts(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        seen: set[str] = set()
        for name, keys in value.items():
            if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise ValueError(f"account name {name!r} may only hold letters, digits, '-', '_', '.'")
            if seen & set(keys):
                raise ValueError(f"a key of account {name!r} belongs to another account too")
            seen |= set(keys)
        return value


def normalize_endpoint(name: str) -> str:
    """`POST /a/b/` and `post /a/b` both name the endpoint `POST /a/b`; `*` stays `*`."""
    method, _, path = name.strip().partition(" ")
    return "*" if method == "*" else f"{method.upper()} {path.strip().rstrip('/') or '/'}"


def parse_quotas(value: Any) -> Any:
    """`"off"` turns every quota off; a mapping overrides the defaults per name (`"off"`/null: off)."""
    value = _json(value)
    if value in ("off", None):
        return dict.fromkeys(DEFAULT_QUOTAS)
    if not isinstance(value, dict):
        return value
    unknown = set(value) - set(DEFAULT_QUOTAS)
    if unknown:
        raise ValueError(f"unknown quotas {sorted(unknown)}; known: {sorted(DEFAULT_QUOTAS)}")
    overrides = {name: None if spec in ("off", None) else spec for name, spec in value.items()}
    return {**DEFAULT_QUOTAS, **overrides}


def _json(value: Any) -> Any:
    """Decode a JSON text (as given in an environment variable); `off` stays a word."""
    if isinstance(value, str) and value.strip() != "off":
        return json.loads(value)
    return value.strip() if isinstance(value, str) else value


def initial_config(settings: EmulatorSettings) -> RuntimeConfig:
    """The configuration the environment asks for; empty variables keep the defaults."""
    given: dict[str, Any] = {
        "seed": settings.seed,
        "timeout_seconds": settings.timeout_seconds,
        "detect_limit_failures": settings.detect_limit_failures,
        "cutout_callback_url": settings.cutout_callback_url,
        "cutout_run_seconds": settings.cutout_run_seconds,
        "cutout_jobs_per_account": settings.cutout_jobs_per_account,
    }
    for name in ("faults", "quotas", "accounts", "task_fates", "cutout_callback_urls"):
        text = getattr(settings, name).strip()
        if text:
            given[name] = text
    return RuntimeConfig.model_validate(given)


def initial_outage(settings: EmulatorSettings) -> OutageSpec | None:
    text = settings.outage.strip()
    return OutageSpec.model_validate_json(text) if text else None
