"""API keys and the headers every DashScope call is checked for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from emulators.errors import ProviderError
from emulators.ids import AccountId, account_for_key


def current_account(authorization: Annotated[str | None, Header()] = None) -> AccountId:
    """Any `Bearer sk-...` key is valid and is an account of its own."""
    if not authorization:
        raise ProviderError(401, "InvalidApiKey", "No API-key provided.")
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key.startswith("sk-"):
        raise ProviderError(401, "InvalidApiKey", "Invalid API-key provided.")
    return account_for_key(key)


def require_async(x_dashscope_async: Annotated[str | None, Header()] = None) -> None:
    if (x_dashscope_async or "").lower() != "enable":
        raise ProviderError(403, "AccessDenied", "current user api does not support synchronous calls")


def forbid_async(x_dashscope_async: Annotated[str | None, Header()] = None) -> None:
    if (x_dashscope_async or "").lower() == "enable":
        raise ProviderError(403, "AccessDenied", "current user api does not support asynchronous calls")


def oss_resolve_enabled(
    x_dashscope_ossresourceresolve: Annotated[str | None, Header()] = None,
) -> bool:
    return (x_dashscope_ossresourceresolve or "").lower() == "enable"


CurrentAccount = Annotated[AccountId, Depends(current_account)]
OssResolve = Annotated[bool, Depends(oss_resolve_enabled)]
