"""Where a webhook may point (SSRF): HTTPS to a host on public addresses only.

A URL is refused when it is not ``https``, carries credentials, or its host resolves to
any private, loopback, link-local, multicast, reserved or unspecified address, unless the
host is in ``RETAINER_WEBHOOK_ALLOW_HOSTS`` (then plain HTTP and any address are
accepted). The check runs when an endpoint is saved and again before every attempt, on
the addresses the attempt then connects to (``resolve_destination``), so a name that
resolves to a public address when saved and to an internal one later (DNS rebinding)
is refused at send time.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from retainer.automation import conf
from retainer.lib.errors import InvalidInput


@dataclass(frozen=True)
class Destination:
    """A checked URL: connect to ``address`` and name ``host`` (Host header, TLS SNI)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def _refuse(detail: str) -> InvalidInput:
    return InvalidInput("webhook_url_refused", detail, field="url")


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _addresses(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise _refuse(f"The host {host} could not be resolved ({exc}).") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_destination(url: str) -> Destination:
    """Check ``url`` and resolve its host; raise ``InvalidInput`` (field ``url``) with the
    reason when it may not be reached. The returned ``address`` is the one to connect to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("This is not a valid URL.") from None
    host = (parts.hostname or "").lower()
    if not host:
        raise _refuse("The URL needs a host.")
    if parts.username or parts.password:
        raise _refuse("The URL may not carry a user name or password.")
    allowed = host in conf.allow_hosts()
    if parts.scheme != "https" and not (allowed and parts.scheme == "http"):
        raise _refuse("Webhook URLs must use https.")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _addresses(host, port)
    if not allowed:
        bad = [a for a in addresses if _forbidden(a)]
        if bad:
            raise _refuse(
                f"The host {host} resolves to a private, loopback, link-local, multicast or "
                f"reserved address ({bad[0]}); webhooks only go to public addresses."
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Destination(parts.scheme, host, port, path, addresses[0])
