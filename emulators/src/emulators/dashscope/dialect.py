"""DashScope's callers (`Authorization: Bearer sk-...`) and error shapes (JSON; XML for OSS) at the gate."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response

from emulators.accounts import account_for_key, bearer_key
from emulators.dialects import Dialect
from emulators.errors import ProviderError, error_json, oss_error_xml
from emulators.ids import AccountId

_OSS_ENDPOINTS = ("POST /oss", "GET /videos/{name}", "HEAD /videos/{name}")


def _caller(headers: Headers, accounts: dict[str, list[str]]) -> AccountId | None:
    try:
        return account_for_key(bearer_key(headers.get("authorization")), accounts)
    except ProviderError:
        return None


def _error(endpoint: str, status: int, code: str, message: str) -> Response:
    if endpoint in _OSS_ENDPOINTS:
        return oss_error_xml(status, code, message)
    return error_json(status, code, message)


DASHSCOPE = Dialect("/", _caller, _error)
