"""Connection and error handling shared by the Redis adapters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
