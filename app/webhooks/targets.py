"""Where a webhook may be sent (server-side request forgery).

An endpoint's URL is checked when it is saved and again at every delivery, after the
name is resolved: a name that resolved to a public address yesterday may point inside
the network today. The delivery then connects to the address that was checked, never
resolving the name a second time (app.webhooks.delivery).

Refused: anything but https (plain http only to loopback, and only when insecure
targets are allowed, for development and tests); credentials in the URL; any address
that is not globally routable: private, loopback (unless allowed), link-local (cloud
metadata at 169.254.169.254 is one), shared, reserved, multicast, unspecified, and
IPv4 addresses in IPv6 clothing (::ffff:10.0.0.1).
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
LOCALHOST_NAMES = ("localhost", "localhost.")


class RefusedTarget(ValueError):
    """The URL or the address it resolves to is not one webhooks may be sent to."""


@dataclass(frozen=True)
class Target:
    url: SplitResult
    host: str  # as written in the URL, lower case, without brackets
    port: int
    address: IPAddress  # the checked address to connect to


def check_url(url: str, *, allow_insecure: bool) -> SplitResult:
    """The URL's parts, if its form may be used at all (addresses are checked later)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise RefusedTarget("is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RefusedTarget("must be an absolute https URL")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("must not contain credentials")
    if parts.fragment:
        raise RefusedTarget("must not have a #fragment")
    if parts.scheme == "http":
        if not allow_insecure:
            raise RefusedTarget("must use https")
        if not _names_loopback(parts.hostname):
            raise RefusedTarget("may use plain http only to a loopback address")
    return parts


def check_address(address: IPAddress, *, allow_insecure: bool) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        if allow_insecure:
            return
        raise RefusedTarget(f"resolves to a loopback address ({address})")
    if not address.is_global or address.is_multicast:
        raise RefusedTarget(f"resolves to a private or reserved address ({address})")


async def resolve(url: str, *, allow_insecure: bool) -> Target:
    """Check the URL, resolve its host and check every address it resolves to."""
    parts = check_url(url, allow_insecure=allow_insecure)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = await _lookup(host, port)
    for address in addresses:
        # Every address, not just the first: the connection could go to any of them.
        check_address(address, allow_insecure=allow_insecure)
    return Target(parts, host, port, addresses[0])


async def _lookup(host: str, port: int) -> list[IPAddress]:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedTarget(f"does not resolve ({error})") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))
    if not addresses:
        raise RefusedTarget("does not resolve")
    return addresses


def _names_loopback(hostname: str) -> bool:
    if hostname.lower() in LOCALHOST_NAMES:
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
