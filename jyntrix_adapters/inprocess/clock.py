"""The system's UTC clock, and the seconds source the in-process cache and rate limiter count with."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from jyntrix_domain.ports import Clock


class SystemClock:
    """The machine's wall clock, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def seconds_source(clock: Clock | None) -> Callable[[], float]:
    """A float-seconds time source: monotonic when no clock is injected, so wall-clock jumps
    cannot shorten a TTL or a rate window; the injected clock's time otherwise (tests)."""
    if clock is None:
        return time.monotonic
    return lambda: clock.now().timestamp()
