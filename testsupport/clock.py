"""A clock that tests move by hand (a test double for the Clock port)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jyntrix_domain.errors import Invalid


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


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise Invalid("clock times must be timezone-aware")
    return at.astimezone(UTC)
