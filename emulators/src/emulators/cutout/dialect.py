"""Who is calling cutout.pro (the `APIKEY` header), and how the gate answers for it: injected errors, quota
refusals and outages as envelopes with the HTTP status as `code` (or a numeric code set for the fault: a
fault's `codes: {"500": "5001"}`, a quota's `code: "4290"`); result files as OSS-style XML, like any
presigned link."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response

from emulators.accounts import account_for_key
from emulators.cutout.envelope import NO_KEY, Refused, envelope
from emulators.dialects import Dialect
from emulators.errors import ProviderError, oss_error_xml
from emulators.ids import AccountId

PREFIX = "/cutout"


def account_of(apikey: str | None, accounts: dict[str, list[str]]) -> AccountId:
    """The caller's account: with no `accounts`, any non-empty key is its own; else the keys they list."""
    if not apikey:
        raise Refused(NO_KEY, "Missing the APIKEY header.", status=401)
    try:
        return account_for_key(apikey, accounts, open_prefix="")
    except ProviderError as exc:
        raise Refused(NO_KEY, "Invalid API key.", status=401) from exc


def _caller(headers: Headers, accounts: dict[str, list[str]]) -> AccountId | None:
    try:
        return account_of(headers.get("apikey"), accounts)
    except Refused:
        return None


def _error(endpoint: str, status: int, code: str, message: str) -> Response:
    if endpoint.partition(" ")[2].startswith(f"{PREFIX}/results/"):
        return oss_error_xml(status, code, message)
    return envelope(None, int(code) if code.isdigit() else status, message, status)


CUTOUT = Dialect(f"{PREFIX}/", _caller, _error)
