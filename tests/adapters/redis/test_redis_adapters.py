"""Redis adapters beyond the shared contracts: failures become Unavailable, keys are namespaced and expire."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence

import pytest
import redis.asyncio as redis_asyncio

from jyntrix_adapters.redis.cache import RedisCache
from jyntrix_adapters.redis.rate_limiter import RedisRateLimiter
from jyntrix_domain.embedding_cache import CachedEmbedder
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.model import Vector


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A loopback server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_refused_connection_is_unavailable() -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    cache = RedisCache.from_url(url, timeout_s=0.5)
    limiter = RedisRateLimiter.from_url(url, timeout_s=0.5)
    try:
        with pytest.raises(Unavailable):
            await cache.get("k")
        with pytest.raises(Unavailable):
            await cache.set("k", b"v")
        with pytest.raises(Unavailable):
            await cache.ping()
        with pytest.raises(Unavailable):
            await limiter.hit("k", 1, 1)
        with pytest.raises(Unavailable):
            await limiter.ping()
    finally:
        await cache.close()
        await limiter.close()


async def test_a_server_that_never_answers_is_unavailable(silent_server: str) -> None:
    cache = RedisCache.from_url(silent_server, timeout_s=0.2)
    try:
        with pytest.raises(Unavailable):
            await cache.get("k")
    finally:
        await cache.close()


async def test_ping_answers_when_redis_is_up(redis_url: str, redis_prefix: str) -> None:
    cache = RedisCache.from_url(redis_url, prefix=redis_prefix)
    limiter = RedisRateLimiter.from_url(redis_url, prefix=redis_prefix)
    try:
        await cache.ping()
        await limiter.ping()
    finally:
        await cache.close()
        await limiter.close()


async def test_keys_live_under_the_configured_prefix(redis_url: str, redis_prefix: str) -> None:
    cache = RedisCache.from_url(redis_url, prefix=redis_prefix)
    limiter = RedisRateLimiter.from_url(redis_url, prefix=redis_prefix)
    raw = redis_asyncio.Redis.from_url(redis_url)
    try:
        await cache.set("k", b"v")
        await limiter.hit("k", 5, 60)
        keys = sorted([key async for key in raw.scan_iter(match=redis_prefix + "*")])
        assert keys == [f"{redis_prefix}cache:k".encode(), f"{redis_prefix}rate:k".encode()]
    finally:
        await cache.close()
        await limiter.close()
        await raw.aclose()


async def test_the_default_prefix_is_jyntrix(redis_url: str, redis_prefix: str) -> None:
    cache = RedisCache.from_url(redis_url)
    raw = redis_asyncio.Redis.from_url(redis_url)
    key = redis_prefix + "k"  # unique to this test even under the shared default prefix
    try:
        await cache.set(key, b"v")
        assert await raw.get(f"jyntrix:cache:{key}") == b"v"
    finally:
        await raw.delete(f"jyntrix:cache:{key}")
        await cache.close()
        await raw.aclose()


async def test_rate_window_keys_expire_with_their_window(redis_url: str, redis_prefix: str) -> None:
    limiter = RedisRateLimiter.from_url(redis_url, prefix=redis_prefix)
    raw = redis_asyncio.Redis.from_url(redis_url)
    try:
        await limiter.hit("k", 5, 30)
        ttl_ms = await raw.pttl(f"{redis_prefix}rate:k")
        assert 0 < ttl_ms <= 30_000  # idle keys leave Redis instead of piling up
    finally:
        await limiter.close()
        await raw.aclose()


class _Embedder:
    dimension = 3

    def __init__(self) -> None:
        self.calls = 0

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        return [[1.0, 0.0, 0.0] for _ in texts]

    async def embed_query(self, text: str, *, user_id: str | None = None) -> Vector:
        self.calls += 1
        return [0.6, 0.8, 0.0]


async def test_query_embeddings_are_shared_between_processes_through_redis(redis_url: str, redis_prefix: str) -> None:
    first_cache = RedisCache.from_url(redis_url, prefix=redis_prefix)
    second_cache = RedisCache.from_url(redis_url, prefix=redis_prefix)
    first, second = _Embedder(), _Embedder()
    try:
        a = await CachedEmbedder(first, model="mini", cache=first_cache).embed_query("where do I work?")
        b = await CachedEmbedder(second, model="mini", cache=second_cache).embed_query("where do I work?")
        assert (first.calls, second.calls) == (1, 0)
        assert a == b == pytest.approx([0.6, 0.8, 0.0], abs=1e-7)
    finally:
        await first_cache.close()
        await second_cache.close()
