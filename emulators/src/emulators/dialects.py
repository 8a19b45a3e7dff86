"""How each provider's API names its caller and shapes an error, for the gate that answers injected faults,
quota refusals and outages on the provider's behalf before any handler runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import Response

from emulators.ids import AccountId

# The caller's account from the request headers and the configured accounts; None when the handler will
# refuse the key (then no quota is spent).
Caller = Callable[[Headers, dict[str, list[str]]], AccountId | None]
# The provider's error answer for (endpoint name, HTTP status, provider code, message).
ErrorShape = Callable[[str, int, str, str], Response]


@dataclass(frozen=True)
class Dialect:
    path_prefix: str  # the paths this provider serves ("/" for all the others)
    caller: Caller
    error: ErrorShape


def dialect_for(path: str, dialects: Sequence[Dialect]) -> Dialect:
    """The first dialect whose prefix the path starts with; list the longer prefixes first."""
    for dialect in dialects:
        if path.startswith(dialect.path_prefix):
            return dialect
    return dialects[-1]
