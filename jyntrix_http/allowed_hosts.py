"""The Host names the server answers to: loopback names always, and those listed in ALLOWED_HOSTS.

A page on attacker.example can rebind that name to 127.0.0.1 (DNS rebinding): the browser then sends the page's
requests to this server as same-origin ones, with `Host: attacker.example:PORT`, and reads the answers. Refusing
every Host the server was not configured for closes that door on every route, the dev-token route and /mcp
included. A loopback name is always safe to answer: a browser sends one only for a page that was itself loaded
from this machine's loopback address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class HostNotAllowed(ClientException):
    """A request whose Host header names a host this server does not answer to (400)."""

    problem_code = "host_not_allowed"


# A Host value is a name or an IPv4 address, or an IPv6 address in brackets, then at most a numeric port
# (RFC 9110 section 7.2). Anything else ("localhost:80@evil", "a:b:c") names no host at all.
_HOST = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9._-]*))(?::[0-9]{0,5})?")


def host_name(header: str) -> str:
    """The name part of a Host header value, lower-cased: no port, no IPv6 brackets, no trailing dot.

    "" for a value that is no host and port, which no allow-list holds.
    """
    found = _HOST.fullmatch(header.strip().lower())
    if found is None:
        return ""
    return _canonical((found["v6"] or found["name"] or "").rstrip("."))


def _canonical(name: str) -> str:
    """An IP address in its one written form (`fd00:0::1` is `fd00::1`), any other name as it is."""
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def entry_name(entry: str) -> str:
    """The name an ALLOWED_HOSTS entry stands for (settings checked it: a name or an address, IPv6 bracketed or not)."""
    return _canonical(entry.strip().lower().removeprefix("[").removesuffix("]").rstrip("."))


def is_loopback_name(name: str) -> bool:
    """localhost (and its subdomains, which resolve to loopback by RFC 6761) and loopback addresses."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class HostAllowList:
    """Which Host names are answered: loopback names, plus exact names, `*.domain` suffixes or `*` (any)."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        names = [entry_name(entry) if not entry.startswith("*") else entry.strip().lower() for entry in allowed]
        self.any = "*" in names
        self._exact = frozenset(n for n in names if not n.startswith("*"))
        self._suffixes = tuple(n[1:] for n in names if n.startswith("*.") and len(n) > 2)

    def allows(self, header: str | None) -> bool:
        """Whether a request with this Host header (None: no header) is answered."""
        if self.any:
            return True
        if not header:
            return False
        name = host_name(header)
        return bool(name) and (
            is_loopback_name(name) or name in self._exact or any(name.endswith(s) for s in self._suffixes)
        )


def _host_header(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return value.decode("latin-1")
    return None


class AllowedHostsMiddleware(ASGIMiddleware):
    """Refuses, with a 400 problem document, a request whose Host the allow-list does not hold."""

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    def __init__(self, allowed: Iterable[str]) -> None:
        self.hosts = HostAllowList(allowed)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        header = _host_header(scope)
        if not self.hosts.allows(header):
            shown = repr(header) if header is not None else "none"
            raise HostNotAllowed(
                f"this server does not answer to Host {shown}; "
                "an operator can add the name to ALLOWED_HOSTS (loopback names are always answered)"
            )
        await next_app(scope, receive, send)
