"""Connection and error handling shared by the Redis adapters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from jyntrix_domain.errors import Unavailable

DEFAULT_PREFIX = "jyntrix:"


def connect(url: str, *, max_connections: int = 50, timeout_s: float = 2.0, pool_timeout_s: float = 10.0) -> Redis:
    """A client for `url` (redis://, rediss:// or unix://) whose pool the client closes.

    The pool is bounded and blocking, so a burst of callers queues for a connection instead of
    opening thousands of sockets. A call fails (Unavailable) when Redis does not answer within
    `timeout_s`, or when no connection frees up within `pool_timeout_s` (overload).
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout_s,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
    )
    return Redis.from_pool(pool)


@contextmanager
def unavailable_on_error(operation: str) -> Iterator[None]:
    """Translate redis-py failures (connection refused, timeouts, server errors) to Unavailable."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise Unavailable(f"redis {operation} failed: {exc}") from exc


class RedisAdapter:
    """A port on Redis whose keys sit under `prefix` plus the adapter's own `namespace`.

    `from_url` opens a client that `close` closes again; a client passed in stays the caller's.
    """

    namespace = ""

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX, owns_client: bool = False) -> None:
        self._client = client
        self._prefix = prefix + self.namespace
        self._owns_client = owns_client

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = DEFAULT_PREFIX, timeout_s: float = 2.0, max_connections: int = 50
    ) -> Self:
        client = connect(url, timeout_s=timeout_s, max_connections=max_connections)
        return cls(client, prefix=prefix, owns_client=True)

    async def ping(self) -> None:
        with unavailable_on_error("ping"):
            await self._client.ping()

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()
