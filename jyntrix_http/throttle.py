"""Throttling what no token vouches for, by client address.

The per-user limit (middleware.RateLimitMiddleware) counts authenticated requests. Everything
else is counted here against the client's address: public routes (`/health/ready` pings every
backend), requests without a bearer token, and requests whose token is refused (a 401 becomes a
429 once that address is past its limit). The client's address is the connection's peer, or,
when the peer is a proxy listed in TRUSTED_PROXIES, the nearest address in X-Forwarded-For that
is not itself a trusted proxy: a header from anyone else is ignored, since a client can send any.
The console's own files (a GET under /console/) are not counted: one page load fetches some twenty of them,
so a person reloading the console a dozen times a minute would otherwise spend the address's allowance and
be refused the sign-in page's first API call; they are static and cost nothing to serve.
(`jyntrix serve` tells uvicorn the same list, so that uvicorn never rewrites the peer from a header that
another sender wrote; see cli.server_config.)

Both throttles describe their quota as the IETF RateLimit header fields draft does: every response the per-user
limit counted, and every 429 of either throttle, carries RateLimit-Limit, -Remaining, -Reset and -Policy.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Sequence
from typing import Any

from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from jyntrix_domain.errors import RateLimited
from jyntrix_domain.model import RateDecision
from jyntrix_domain.ports import RateLimiter

CONSOLE_FILES = "/console/"
log = logging.getLogger("jyntrix.http")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def quota_headers(decision: RateDecision, window_s: float) -> dict[str, str]:
    """The RateLimit-* fields of a decision of a sliding-window limit of `decision.limit` per `window_s`.

    RateLimit-Reset is in seconds: when the request was refused, until one is admitted again (Retry-After);
    when it was admitted, until the whole quota is back, which for a sliding window is one window, since the
    request just counted is the newest in it.
    """
    reset_s = decision.retry_after_s if not decision.allowed else window_s
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(max(1, math.ceil(reset_s))),
        "RateLimit-Policy": f"{decision.limit};w={max(1, math.ceil(window_s))}",
    }


class Throttled(RateLimited):
    """A throttle's refusal (429), with the RateLimit-* fields of the quota that refused it."""

    def __init__(self, message: str, decision: RateDecision, window_s: float) -> None:
        super().__init__(message, decision.retry_after_s, limit=decision.limit)
        self.headers = quota_headers(decision, window_s)


def parse_networks(proxies: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def client_address(scope: Scope, trusted: Sequence[Network]) -> str:
    """The address the request came from, trusting X-Forwarded-For only as far as trusted proxies reach."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded: list[str] = []
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-forwarded-for":
            forwarded.extend(part.strip() for part in value.decode("latin-1").split(","))
    for hop in reversed([f for f in forwarded if f]):
        if not _is_trusted(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _has_bearer(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"authorization":
            return value[:7].lower() == b"bearer "
    return False


class AddressRateLimitMiddleware(ASGIMiddleware):
    """Counts unauthenticated traffic per client address; past the limit, 429 with Retry-After."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, limit: int, window_s: float, trusted_proxies: Sequence[str] = ()) -> None:
        self.limit = limit
        self.window_s = window_s
        self._trusted = parse_networks(trusted_proxies)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        limiter = limiter_of(scope)
        if limiter is None or scope.get("method") == "OPTIONS" or _is_console_file(scope):
            await next_app(scope, receive, send)
            return
        key = f"rate:addr:{client_address(scope, self._trusted)}"
        if not _has_bearer(scope):
            await self._count(limiter, key)
            await next_app(scope, receive, send)
            return
        try:
            await next_app(scope, receive, send)
        except NotAuthorizedException:
            await self._count(limiter, key)  # past the limit, the refusal becomes a 429
            raise

    async def _count(self, limiter: RateLimiter, key: str) -> None:
        try:
            decision = await limiter.hit(key, self.limit, self.window_s)
        except Exception as exc:  # the limiter's backend being down must not take the API down with it
            log.warning("rate limiter unavailable, request let through: %s", exc)
            return
        if not decision.allowed:
            raise Throttled(
                f"rate limit of {self.limit} unauthenticated requests per {self.window_s:g}s exceeded",
                decision,
                self.window_s,
            )


def _is_console_file(scope: Scope) -> bool:
    return scope.get("method") in ("GET", "HEAD") and str(scope.get("path", "")).startswith(CONSOLE_FILES)


def limiter_of(scope: Scope) -> RateLimiter | None:
    """The app's RateLimiter (on the Runtime the lifespan opened); None before start-up."""
    app: Any = scope.get("litestar_app")
    runtime = getattr(app.state, "runtime", None) if app is not None else None
    return getattr(runtime, "rate_limiter", None)
