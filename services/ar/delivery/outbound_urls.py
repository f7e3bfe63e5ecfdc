"""Which URLs `ar` may call on a subscriber's behalf: a key holder must not make it reach internal services.

A URL is refused unless it is http or https, names a host, carries no credentials, and every address its host
resolves to is public (not private, loopback, link-local, multicast, reserved or unspecified) — unless
`AR_SUBSCRIPTION_ALLOW_PRIVATE` allows those (a receiver on the same machine or network). The addresses are checked
again at each delivery: a name may resolve elsewhere by then (DNS rebinding). A name that does not resolve at all
is accepted when the subscription is written (it may exist later) and fails its deliveries until it does.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from ar.domain.errors import DomainRuleViolation

Resolver = Callable[[str, int], list[str]]
"""host, port -> the addresses it resolves to (raises OSError when it does not)."""


class OutboundUrlRefused(DomainRuleViolation):
    rule = "outbound-url-refused"


def resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except UnicodeError as e:  # a label the IDNA codec refuses (empty, or longer than 63 characters)
        raise OSError(f"not a resolvable name: {e}") from e
    return sorted({str(info[4][0]) for info in found})


def refused_address(address: str) -> str | None:
    """Why `address` is not to be called, or None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for what, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                       ("unspecified", ip.is_unspecified), ("reserved", ip.is_reserved), ("private", ip.is_private),
                       ("not public", not ip.is_global)):
        if flag:
            return f"{address} is {what}" if what == "not public" else f"{address} is a {what} address"
    return None


def host_and_port(url: str) -> tuple[str, int]:
    """The host and port of a well-formed http(s) URL; raises OutboundUrlRefused naming `url` otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise OutboundUrlRefused(f"not a valid URL: {e}", field="url") from e
    if parts.scheme not in ("http", "https"):
        raise OutboundUrlRefused(f"only http and https URLs are called, not {parts.scheme or 'no scheme'!r}",
                                 field="url")
    if parts.username is not None or parts.password is not None:
        raise OutboundUrlRefused("credentials in a URL would be stored and logged: put none there (verify "
                                 "deliveries with the subscription's secret)", field="url")
    if not parts.hostname:
        raise OutboundUrlRefused("the URL names no host", field="url")
    try:
        parts.hostname.encode("idna")
    except UnicodeError as e:
        raise OutboundUrlRefused(f"{parts.hostname!r} is not a valid host name", field="url") from e
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_addresses(host: str, port: int, *, allow_private: bool, resolver: Resolver = resolve) -> None:
    """Raises OutboundUrlRefused when `host` is, or resolves to, an address not to be called; OSError when a
    name does not resolve."""
    if allow_private:
        return
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        addresses = resolver(host, port)
    for address in addresses:
        if (why := refused_address(address)) is not None:
            raise OutboundUrlRefused(f"{host} may not be called: {why} (set AR_SUBSCRIPTION_ALLOW_PRIVATE=true to "
                                     "allow private addresses)", field="url", figures={"address": address})


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> str:
    """The URL, if `ar` may call it; a name that does not resolve yet passes (checked again at each delivery)."""
    host, port = host_and_port(url)
    with contextlib.suppress(OSError):
        check_addresses(host, port, allow_private=allow_private, resolver=resolver)
    return url
