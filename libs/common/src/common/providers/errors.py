"""Provider errors keep what the provider said, split by what the caller should do."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider answered with an error (or could not be reached)."""

    retryable = False

    def __init__(self, code: str, message: str, *, status: int | None = None, request_id: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id


class RetryableProviderError(ProviderError):
    """Throttling, 5xx, timeouts, connection errors: the same call may succeed later."""

    retryable = True

    def __init__(self, *args: object, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ProviderUnreachable(RetryableProviderError):
    """No connection to the provider could be made: the request never left, so nothing was done."""


class PermanentProviderError(ProviderError):
    """The input is wrong (bad photo, bad template): repeating the call cannot help."""


class ProviderConfigurationError(PermanentProviderError):
    """401/403: the API key or the account is wrong; an operator must act."""
