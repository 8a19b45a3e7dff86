"""API keys to accounts: quotas, files, tasks and templates all belong to an account."""

from __future__ import annotations

import hashlib

from emulators.errors import ProviderError
from emulators.ids import AccountId


def account_for_key(api_key: str, accounts: dict[str, list[str]], open_prefix: str = "sk-") -> AccountId:
    """The account a key belongs to; 401 `InvalidApiKey` for a key the provider would not know.

    With no accounts configured, any non-empty key starting with `open_prefix` (DashScope's `sk-`; any
    key at all for cutout.pro) is valid and is an account of its own; otherwise only the configured
    keys are, and several keys may share one account (of either provider).
    """
    if accounts:
        for name, keys in accounts.items():
            if api_key in keys:
                return AccountId(name)
    elif api_key and api_key.startswith(open_prefix):
        return AccountId(hashlib.sha256(api_key.encode()).hexdigest()[:16])
    raise ProviderError(401, "InvalidApiKey", "Invalid API-key provided.")


def bearer_key(authorization: str | None) -> str:
    if not authorization:
        raise ProviderError(401, "InvalidApiKey", "No API-key provided.")
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ProviderError(401, "InvalidApiKey", "Invalid API-key provided.")
    return key.strip()
