"""Checks on a URL the product is asked to reach on a client's behalf: it must name a public host.

Used for image URLs (the gateway never fetches them; the provider does) and for webhook callback URLs
(checked by the gateway when they are given, and again by the notifier before every delivery, since
DNS may change in between). A URL is refused rather than repaired, and the reasons never echo what a
name resolved to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_LENGTH = 2048
RESOLVE_SECONDS = 2
LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal")
HOST_NAME = re.compile(r"[a-z0-9_.-]+")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SHARED = ipaddress.ip_network("100.64.0.0/10")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(ValueError):
    """A URL that must not be used; shaped like the gateway's ApiError (status, code, detail, field)."""

    status = 400

    def __init__(self, code: str, detail: str, field: str) -> None:
        super().__init__(detail)
        self.code, self.detail, self.field = code, detail, field


@dataclass(frozen=True)
class CheckedUrl:
    """A URL that passed, and the public addresses its host resolved to at the check (none when the
    host is exempt by `allowed_hosts`, or for `oss://`): a caller connecting to it should use these
    addresses, so that the name cannot resolve to another one in between."""

    url: str
    addresses: tuple[IPAddress, ...] = ()


def is_public(ip: IPAddress) -> bool:
    """True for a globally reachable unicast address, looking inside IPv6 forms that embed an IPv4 one."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return is_public(ip.sixtofour)
        if ip.teredo is not None:
            return all(is_public(part) for part in ip.teredo)
        if ip in NAT64:
            return is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.is_site_local:
            return False
    elif ip in SHARED:
        return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _has_space_or_control(url: str) -> bool:
    return any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp") for c in url)


async def _resolve(host: str, port: int) -> list[IPAddress] | None:
    """The addresses of a host (an IP literal as is), or None if it does not resolve in time."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [ipaddress.ip_address(info[4][0]) for info in infos] or None
    except (OSError, TimeoutError, UnicodeError, ValueError):
        return None


async def check_url(
    url: str,
    *,
    allow_http: bool,
    allowed_hosts: frozenset[str],
    field: str,
    code: str,
    allow_oss: bool = False,
) -> CheckedUrl:
    """The URL and its host's addresses if it may be reached, else UrlRefused(`code`, ..., `field`)."""
    schemes = ("https", "http") if allow_http else ("https",)
    advice = (
        "Use an http(s):// URL of a public host." if allow_http else "Use an https:// URL of a public host."
    )

    def refuse(why: str) -> UrlRefused:
        return UrlRefused(code, f"{why} {advice}", field)

    if len(url) > MAX_LENGTH:
        raise refuse(f"The URL is longer than {MAX_LENGTH} characters.")
    if not url or _has_space_or_control(url):
        raise refuse("The URL is empty or contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise refuse("The URL is malformed.") from exc
    if allow_oss and parts.scheme == "oss":  # the provider's own storage: it fetches that itself
        if not parts.netloc or not parts.path.strip("/"):
            raise refuse("An oss:// URL needs a bucket and a path.")
        return CheckedUrl(url)
    if parts.scheme not in schemes:
        raise refuse("Only " + " or ".join(f"{s}://" for s in schemes) + " URLs are accepted.")
    if "@" in parts.netloc:
        raise refuse("The URL must not carry a user name or password.")
    if not parts.hostname:
        raise refuse("The URL has no host.")
    if port == 0:
        raise refuse("The URL's port must be 1-65535.")
    try:
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise refuse("The URL's host is not a valid name.") from exc
    if host in {h.lower() for h in allowed_hosts}:
        return CheckedUrl(url)
    bare = host.rstrip(".")
    if bare == LOCAL_NAMES[0] or bare.endswith(LOCAL_NAMES[1:]):
        raise refuse(f"The host {bare} is not public.")
    if ":" not in host and not HOST_NAME.fullmatch(host):
        raise refuse("The URL's host is not a valid name.")
    addresses = await _resolve(host, port or (443 if parts.scheme == "https" else 80))
    if addresses is None:
        raise refuse(f"The host {host} does not resolve.")
    if not all(is_public(ip) for ip in addresses):
        raise refuse(f"The host {host} is not a public address.")
    return CheckedUrl(url, tuple(addresses))


async def check_image_url(
    url: str, *, allow_http: bool, allowed_hosts: frozenset[str], field: str = "imageUrl"
) -> str:
    """The URL unchanged if the provider may fetch it, else UrlRefused 400 `InvalidImageUrl`."""
    checked = await check_url(
        url,
        allow_http=allow_http,
        allowed_hosts=allowed_hosts,
        field=field,
        code="InvalidImageUrl",
        allow_oss=True,
    )
    return checked.url


async def check_callback_url(
    url: str, *, allow_http: bool, allowed_hosts: frozenset[str], field: str = "callbackUrl"
) -> CheckedUrl:
    """The URL (and its addresses) if webhooks may be sent to it, else UrlRefused `InvalidCallbackUrl`."""
    return await check_url(
        url, allow_http=allow_http, allowed_hosts=allowed_hosts, field=field, code="InvalidCallbackUrl"
    )
