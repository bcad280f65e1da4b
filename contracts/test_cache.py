"""Cache contract: every Cache adapter passes these same tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import pytest

from jyntrix_bootstrap.resources import open_cache
from jyntrix_domain.errors import Invalid
from jyntrix_domain.ports import Cache
from testsupport.polling import holds_within
from testsupport.redis import namespaced_factory_fixture

CacheFactory = Callable[[str], Awaitable[Cache]]


# The cache each setting selects, opened as the container opens it: in process, or Redis (REDIS_URL).
cache_factory = namespaced_factory_fixture(open_cache)


@pytest.fixture
async def cache(cache_factory: CacheFactory) -> Cache:
    return await cache_factory("main")


async def _gone_within(cache: Cache, key: str, bound_s: float = 5.0) -> bool:
    """Poll until `key` reads as absent; False if it is still there after `bound_s`."""

    async def gone() -> bool:
        return await cache.get(key) is None

    return await holds_within(gone, bound_s)


async def test_get_returns_what_was_set(cache: Cache) -> None:
    await cache.set("greeting", b"hello")
    assert await cache.get("greeting") == b"hello"


async def test_missing_key_reads_as_none(cache: Cache) -> None:
    assert await cache.get("never-set") is None


async def test_set_overwrites_previous_value(cache: Cache) -> None:
    await cache.set("k", b"first")
    await cache.set("k", b"second")
    assert await cache.get("k") == b"second"


async def test_delete_removes_the_value(cache: Cache) -> None:
    await cache.set("k", b"v")
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_deleting_a_missing_key_is_a_no_op(cache: Cache) -> None:
    await cache.delete("never-set")
    assert await cache.get("never-set") is None


async def test_value_with_ttl_is_readable_before_it_expires(cache: Cache) -> None:
    await cache.set("k", b"v", ttl_s=30)
    assert await cache.get("k") == b"v"


async def test_value_expires_after_its_ttl(cache: Cache) -> None:
    await cache.set("short", b"v", ttl_s=0.2)
    assert await _gone_within(cache, "short")


async def test_expiry_affects_only_the_expiring_key(cache: Cache) -> None:
    await cache.set("short", b"v", ttl_s=0.2)
    await cache.set("lasting", b"w")
    assert await _gone_within(cache, "short")
    assert await cache.get("lasting") == b"w"


async def test_overwriting_without_ttl_removes_the_earlier_ttl(cache: Cache) -> None:
    await cache.set("k", b"old", ttl_s=0.2)
    await cache.set("k", b"new")
    await asyncio.sleep(0.5)  # well past the first TTL: absence would mean it was kept
    assert await cache.get("k") == b"new"


async def test_overwriting_with_ttl_makes_the_value_expire(cache: Cache) -> None:
    await cache.set("k", b"old")
    await cache.set("k", b"new", ttl_s=0.2)
    assert await _gone_within(cache, "k")


@pytest.mark.parametrize("ttl_s", [0, -1.0])
async def test_non_positive_ttl_is_invalid(cache: Cache, ttl_s: float) -> None:
    with pytest.raises(Invalid):
        await cache.set("k", b"v", ttl_s=ttl_s)


async def test_keys_are_independent(cache: Cache) -> None:
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    await cache.delete("a")
    assert await cache.get("a") is None
    assert await cache.get("b") == b"2"


async def test_similar_keys_do_not_collide(cache: Cache) -> None:
    keys = ["user:1", "user:10", "user:1:", "USER:1", "user: 1"]
    for i, key in enumerate(keys):
        await cache.set(key, str(i).encode())
    assert [await cache.get(key) for key in keys] == [str(i).encode() for i in range(len(keys))]


async def test_namespaces_are_isolated(cache_factory: CacheFactory) -> None:
    first, second = await cache_factory("first"), await cache_factory("second")
    await first.set("shared-name", b"first's")
    assert await second.get("shared-name") is None
    await second.set("shared-name", b"second's")
    await second.delete("shared-name")
    assert await first.get("shared-name") == b"first's"


async def test_binary_values_round_trip_byte_for_byte(cache: Cache) -> None:
    every_byte = bytes(range(256)) * 4
    await cache.set("binary", every_byte)
    assert await cache.get("binary") == every_byte


async def test_empty_value_is_distinct_from_a_missing_one(cache: Cache) -> None:
    await cache.set("empty", b"")
    assert await cache.get("empty") == b""


async def test_unicode_keys_and_values(cache: Cache) -> None:
    keys = ["ключ", "鍵/🔑", "naïve café", "tab\tand\nnewline", "*?[glob]"]
    for key in keys:
        await cache.set(key, f"value of {key} ✓".encode())
    for key in keys:
        assert (await cache.get(key) or b"").decode() == f"value of {key} ✓"


async def test_large_value_round_trips(cache: Cache) -> None:
    large = os.urandom(4 * 1024 * 1024)
    await cache.set("large", large)
    assert await cache.get("large") == large


async def test_concurrent_writers_to_distinct_keys_all_land(cache: Cache) -> None:
    await asyncio.gather(*(cache.set(f"k{i}", f"v{i}".encode()) for i in range(200)))
    values = await asyncio.gather(*(cache.get(f"k{i}") for i in range(200)))
    assert values == [f"v{i}".encode() for i in range(200)]


async def test_concurrent_writers_to_one_key_leave_one_whole_value(cache: Cache) -> None:
    written = [bytes([i]) * 10_000 for i in range(50)]
    await asyncio.gather(*(cache.set("contended", value) for value in written))
    assert await cache.get("contended") in written
