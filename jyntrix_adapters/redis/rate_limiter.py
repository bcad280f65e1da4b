"""Redis RateLimiter: an exact sliding log per key in a sorted set, updated atomically by one Lua script."""

from __future__ import annotations

import math
import os

from redis.asyncio import Redis

from jyntrix_adapters.redis.client import DEFAULT_PREFIX, RedisAdapter, unavailable_on_error
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import RateDecision

# Scores are microseconds of the Redis server's clock, so API processes with skewed clocks
# still share one window. Prune, count, admit and expire run as one atomic script: concurrent
# callers can never both see room for the last slot. Only admitted hits are logged.
_SLIDING_WINDOW = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, limit - count - 1, 0}
end
local release = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
local retry = tonumber(release[2]) + window - now
if retry < 1 then retry = 1 end
return {0, 0, retry}
"""


class RedisRateLimiter(RedisAdapter):
    """RateLimiter port on Redis: at most `limit` admitted hits per key in any `window_s` seconds."""

    namespace = "rate:"

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX, owns_client: bool = False) -> None:
        super().__init__(client, prefix=prefix, owns_client=owns_client)
        self._script = client.register_script(_SLIDING_WINDOW)

    async def hit(self, key: str, limit: int, window_s: float) -> RateDecision:
        if limit < 1:
            raise Invalid("limit must be at least 1")
        if window_s <= 0:
            raise Invalid("window_s must be positive")
        window_us = max(1, math.ceil(window_s * 1_000_000))
        member = os.urandom(8).hex()
        with unavailable_on_error("rate limit"):
            allowed, remaining, retry_us = await self._script(
                keys=[self._prefix + key], args=[limit, window_us, member]
            )
        return RateDecision(
            allowed=bool(allowed), limit=limit, remaining=int(remaining), retry_after_s=int(retry_us) / 1_000_000
        )
