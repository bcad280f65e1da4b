"""In-process RateLimiter: an exact sliding log per key."""

from __future__ import annotations

import threading
from collections import deque

from jyntrix_adapters.inprocess.clock import seconds_source
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import RateDecision
from jyntrix_domain.ports import Clock

# How many hits between sweeps of keys that have gone quiet; keeps memory bounded by active keys.
_SWEEP_EVERY = 1024


class _Log:
    __slots__ = ("hits", "window_s")

    def __init__(self, window_s: float) -> None:
        self.hits: deque[float] = deque()
        self.window_s = window_s


class InProcessRateLimiter:
    """Allows at most `limit` hits per key in any window of `window_s` seconds.

    A hit counts only when it is allowed, so a client that keeps knocking while denied is
    let in again as soon as its oldest admitted hit leaves the window. `hit` never awaits,
    so concurrent asyncio callers cannot interleave inside it; a lock covers threads too.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._now = seconds_source(clock)
        self._logs: dict[str, _Log] = {}
        self._lock = threading.Lock()
        self._hits_since_sweep = 0

    @property
    def tracked_keys(self) -> int:
        """Keys with a log in memory; idle ones are swept every so often."""
        return len(self._logs)

    async def hit(self, key: str, limit: int, window_s: float) -> RateDecision:
        if limit < 1:
            raise Invalid("limit must be at least 1")
        if window_s <= 0:
            raise Invalid("window_s must be positive")
        with self._lock:
            now = self._now()
            self._maybe_sweep(now)
            log = self._logs.get(key)
            if log is None:
                log = self._logs[key] = _Log(window_s)
            log.window_s = window_s
            hits = log.hits
            horizon = now - window_s
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) < limit:
                hits.append(now)
                return RateDecision(allowed=True, limit=limit, remaining=limit - len(hits))
            # When the limit shrank between calls, more than `limit` hits may be logged: the
            # request is admitted again once only limit - 1 of them remain in the window.
            release = hits[len(hits) - limit]
            retry_after = max(release + window_s - now, 1e-6)
            return RateDecision(allowed=False, limit=limit, remaining=0, retry_after_s=retry_after)

    def _maybe_sweep(self, now: float) -> None:
        self._hits_since_sweep += 1
        if self._hits_since_sweep < _SWEEP_EVERY:
            return
        self._hits_since_sweep = 0
        stale = [key for key, log in self._logs.items() if not log.hits or log.hits[-1] <= now - log.window_s]
        for key in stale:
            del self._logs[key]
