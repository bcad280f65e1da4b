"""Clock adapters: the system's UTC clock, and a manual clock that tests move by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from jyntrix_domain.errors import Invalid
from jyntrix_domain.ports import Clock


class SystemClock:
    """The machine's wall clock, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until told to move; for deterministic tests of time-based behaviour."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware(start) if start is not None else datetime(2025, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        """Jump to `at` (timezone-aware); the clock may be moved backwards on purpose."""
        self._now = _aware(at)

    def advance(self, by: float | timedelta) -> datetime:
        """Move forward by seconds or a timedelta and return the new time."""
        delta = by if isinstance(by, timedelta) else timedelta(seconds=by)
        if delta < timedelta(0):
            raise Invalid("a ManualClock only advances forwards; use set() to go back")
        self._now += delta
        return self._now


def seconds_source(clock: Clock | None) -> Callable[[], float]:
    """A float-seconds time source: monotonic when no clock is injected, so wall-clock jumps
    cannot shorten a TTL or a rate window; the injected clock's time otherwise (tests)."""
    if clock is None:
        return time.monotonic
    return lambda: clock.now().timestamp()


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise Invalid("clock times must be timezone-aware")
    return at.astimezone(UTC)
