"""Analytics of the caller's own traffic: phase and strategy latency, strategy hit rates, usage.

Every summary is scoped to the authenticated user, so one tenant never learns about another's use.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from litestar import Router, get
from litestar.params import Parameter

from jyntrix_bootstrap.services import Services
from jyntrix_domain.analytics import LatencyStats, StrategyStats, UsageStats
from jyntrix_domain.errors import Invalid
from jyntrix_http.routes import MIN_TIME, ServicesDep, UserRequest, checked_time, error_responses

MAX_WINDOW = timedelta(days=366)
Since = Annotated[datetime | None, Parameter(description="window start (default: `until` minus 24 hours)")]
Until = Annotated[datetime | None, Parameter(description="window end (default: now)")]


class Window(msgspec.Struct, frozen=True, kw_only=True):
    since: datetime
    until: datetime


class LatencyReport(msgspec.Struct, frozen=True, kw_only=True):
    window: Window
    phases: list[LatencyStats]
    strategies: list[LatencyStats]


class StrategyReport(msgspec.Struct, frozen=True, kw_only=True):
    window: Window
    strategies: list[StrategyStats]


class UsageReport(msgspec.Struct, frozen=True, kw_only=True):
    window: Window
    usage: UsageStats


def _window(services: Services, since: datetime | None, until: datetime | None) -> Window:
    end = checked_time("until", until) or services.clock.now()
    start = checked_time("since", since) or max(MIN_TIME, end - timedelta(hours=24))
    if start >= end:
        raise Invalid("`since` must be before `until`")
    if end - start > MAX_WINDOW:
        raise Invalid("the window may span at most 366 days")
    return Window(since=start, until=end)


@get(
    "/latency",
    summary="p50/p95/p99 latency per chat phase and per retrieval strategy",
    responses=error_responses(422),
)
async def latency(
    request: UserRequest, services: ServicesDep, since: Since = None, until: Until = None
) -> LatencyReport:
    window = _window(services, since, until)
    stats = await services.analytics.latency(window.since, window.until, user_id=request.user.id)
    return LatencyReport(
        window=window,
        phases=[s for s in stats if s.kind == "phase"],
        strategies=[s for s in stats if s.kind == "strategy"],
    )


@get("/strategies", summary="Hit and failure rates per retrieval strategy", responses=error_responses(422))
async def strategies(
    request: UserRequest, services: ServicesDep, since: Since = None, until: Until = None
) -> StrategyReport:
    window = _window(services, since, until)
    stats = await services.analytics.strategies(window.since, window.until, user_id=request.user.id)
    return StrategyReport(window=window, strategies=stats)


@get("/usage", summary="Chat turns and tokens", responses=error_responses(422))
async def usage(request: UserRequest, services: ServicesDep, since: Since = None, until: Until = None) -> UsageReport:
    window = _window(services, since, until)
    stats = await services.analytics.usage(window.since, window.until, user_id=request.user.id)
    return UsageReport(window=window, usage=stats)


router = Router(path="/api/v1/analytics", route_handlers=[latency, strategies, usage], tags=["analytics"])
