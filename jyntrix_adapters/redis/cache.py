"""Redis Cache: values under a key prefix, with TTLs kept by Redis itself."""

from __future__ import annotations

import math

from jyntrix_adapters.redis.client import RedisAdapter, unavailable_on_error
from jyntrix_domain.errors import Invalid


class RedisCache(RedisAdapter):
    """Cache port on Redis; shared by every process that points at the same server and prefix."""

    namespace = "cache:"

    async def get(self, key: str) -> bytes | None:
        with unavailable_on_error("cache get"):
            value = await self._client.get(self._prefix + key)
        if value is None or isinstance(value, bytes):
            return value
        return str(value).encode()  # only if someone built the client with decode_responses=True

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        if ttl_s is not None and ttl_s <= 0:
            raise Invalid("ttl_s must be positive, or None for no expiry")
        # Milliseconds, rounded up so that a sub-millisecond TTL still stores the value.
        px = None if ttl_s is None else max(1, math.ceil(ttl_s * 1000))
        with unavailable_on_error("cache set"):
            await self._client.set(self._prefix + key, bytes(value), px=px)

    async def delete(self, key: str) -> None:
        with unavailable_on_error("cache delete"):
            await self._client.delete(self._prefix + key)
