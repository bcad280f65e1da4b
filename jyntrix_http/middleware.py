"""CORS, request logging with X-Request-ID, the Host allow-list's place, and per-user rate limiting.

Rate limiting uses the RateLimiter port rather than Litestar's RateLimitConfig: that
middleware keeps a fixed window in a store through a read-modify-write guarded only by a
process-local lock, so API replicas sharing Redis would admit more than the limit; it
knows only second/minute/hour/day windows and sends no Retry-After. The port gives an
exact sliding window that is atomic in Redis (a Lua script) and in process, keyed by the
authenticated user (it runs after authentication), with any RATE_LIMIT_WINDOW_S.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from jyntrix_bootstrap.settings import Settings
from jyntrix_domain.ports import RateLimiter
from jyntrix_http.allowed_hosts import AllowedHostsMiddleware
from jyntrix_http.errors import REQUEST_ID_HEADER, request_id_of, status_for
from jyntrix_http.metrics import record_request
from jyntrix_http.throttle import AddressRateLimitMiddleware, Throttled, limiter_of, quota_headers

log = logging.getLogger("jyntrix.http")


def cors_config(settings: Settings) -> CORSConfig:
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER, "Last-Event-ID"],
        expose_headers=[
            REQUEST_ID_HEADER,
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "RateLimit-Policy",
        ],
        allow_credentials=True,
        max_age=600,
    )


async def add_request_id_header(message: Message, scope: Scope) -> None:
    """before_send hook: every response, errors and unmatched routes included, carries X-Request-ID."""
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id_of(scope)


def outermost(settings: Settings) -> Callable[[AppConfig], AppConfig]:
    """on_app_init hook, after auth's: logging, the Host check, then the per-address throttle, all before auth.

    Logging goes first so that it also sees requests that the others refuse; the Host check comes next so that
    a request for a host this server does not serve reaches nothing else; the throttle goes before auth so that
    it can count traffic that no token vouches for.
    """

    def insert(app_config: AppConfig) -> AppConfig:
        throttle = AddressRateLimitMiddleware(
            settings.rate_limit_anonymous_requests, settings.rate_limit_window_s, settings.trusted_proxies
        )
        hosts = AllowedHostsMiddleware(settings.allowed_hosts)
        app_config.middleware[0:0] = [RequestLoggingMiddleware(), hosts, throttle]
        return app_config

    return insert


class RequestLoggingMiddleware(ASGIMiddleware):
    """Logs one line per request: method, path, status, duration, user and request id; and counts it (metrics)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request_id = request_id_of(scope)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, send_wrapper)
        except Exception as exc:
            status = status_for(exc)
            raise
        finally:
            user_id = getattr(scope.get("user"), "id", None)
            elapsed_s = time.perf_counter() - started
            record_request(scope, status, elapsed_s)
            log.info(
                "%s %s %d %.1fms user=%s request_id=%s",
                scope.get("method", "-"),
                printable(scope.get("path", "-")),
                status,
                elapsed_s * 1000,
                printable(user_id or "-"),
                request_id,
                extra={"request_id": request_id, "user_id": user_id, "status": status},
            )


def printable(text: str) -> str:
    """`text` with control characters escaped, so that no value from a request can forge a log line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class RateLimitMiddleware(ASGIMiddleware):
    """Counts each authenticated request against its user's sliding window; past the limit, 429."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, limit: int, window_s: float, limiter: RateLimiter | None = None) -> None:
        self.limit = limit
        self.window_s = window_s
        self._limiter = limiter

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        user = scope.get("user")
        limiter = self._limiter or limiter_of(scope)
        if user is None or limiter is None or scope.get("method") == "OPTIONS":
            await next_app(scope, receive, send)
            return
        try:
            decision = await limiter.hit(f"rate:user:{user.id}", self.limit, self.window_s)
        except Exception as exc:  # the limiter's backend being down must not take the API down with it
            log.warning("rate limiter unavailable, request let through: %s", exc)
            await next_app(scope, receive, send)
            return
        if not decision.allowed:
            message = f"rate limit of {self.limit} requests per {self.window_s:g}s exceeded"
            raise Throttled(message, decision, self.window_s)
        headers = quota_headers(decision, self.window_s)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableScopeHeaders.from_message(message)
                for key, value in headers.items():
                    response_headers[key] = value
            await send(message)

        await next_app(scope, receive, send_wrapper)
