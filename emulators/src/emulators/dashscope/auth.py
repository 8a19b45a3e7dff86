"""API keys and the headers every DashScope call is checked for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from emulators.accounts import account_for_key, bearer_key
from emulators.deps import EmulatorDep
from emulators.errors import ProviderError
from emulators.ids import AccountId


def current_account(
    emulator: EmulatorDep, authorization: Annotated[str | None, Header()] = None
) -> AccountId:
    return account_for_key(bearer_key(authorization), emulator.controls.config.accounts)


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
