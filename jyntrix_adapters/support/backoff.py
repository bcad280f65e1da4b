"""How long to wait before retrying a failed call: one policy for every adapter that retries."""

from __future__ import annotations

import random

import msgspec

from jyntrix_domain.errors import Invalid, RateLimited


class Backoff(msgspec.Struct, frozen=True, kw_only=True):
    """Exponential backoff with jitter, honouring a server's Retry-After.

    Attempt n waits `initial_s * 2**(n-1)`, capped at `max_s`, then scaled by a random factor in
    [`jitter`, 1] so that callers that failed together do not come back together.
    """

    initial_s: float = 0.5
    max_s: float = 8.0
    jitter: float = 0.8

    def __post_init__(self) -> None:
        if self.initial_s < 0 or self.max_s < self.initial_s or not 0.0 <= self.jitter <= 1.0:
            raise Invalid("backoff needs 0 <= initial_s <= max_s and jitter in [0, 1]")

    def delay(self, attempt: int, error: BaseException | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        delay = min(self.max_s, self.initial_s * 2.0 ** (attempt - 1))
        if isinstance(error, RateLimited):
            delay = min(self.max_s, max(delay, error.retry_after_s))
        return delay * random.uniform(self.jitter, 1.0)
