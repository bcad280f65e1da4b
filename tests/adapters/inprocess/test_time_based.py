"""In-process Cache, RateLimiter and clocks, driven by a ManualClock: exact boundaries, no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jyntrix_adapters.inprocess.cache import InProcessCache
from jyntrix_adapters.inprocess.clock import SystemClock
from jyntrix_adapters.inprocess.rate_limiter import InProcessRateLimiter
from jyntrix_domain.errors import Invalid
from testsupport.clock import ManualClock


async def test_cache_entry_expires_exactly_at_its_ttl() -> None:
    clock = ManualClock()
    cache = InProcessCache(clock=clock)
    await cache.set("k", b"v", ttl_s=10)
    clock.advance(9.999)
    assert await cache.get("k") == b"v"
    clock.advance(0.001)
    assert await cache.get("k") is None


async def test_cache_without_ttl_never_expires() -> None:
    clock = ManualClock()
    cache = InProcessCache(clock=clock)
    await cache.set("k", b"v")
    clock.advance(timedelta(days=3650))
    assert await cache.get("k") == b"v"


async def test_full_cache_evicts_the_least_recently_used_entry() -> None:
    cache = InProcessCache(max_entries=3)
    for key in "abc":
        await cache.set(key, key.encode())
    await cache.get("a")  # now "b" is the least recently used
    await cache.set("d", b"d")
    assert len(cache) == 3
    assert await cache.get("b") is None
    assert [await cache.get(k) for k in "acd"] == [b"a", b"c", b"d"]


async def test_overwriting_a_key_does_not_evict_another() -> None:
    cache = InProcessCache(max_entries=2)
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    await cache.set("a", b"3")
    assert (await cache.get("a"), await cache.get("b")) == (b"3", b"2")


def test_cache_needs_room_for_one_entry() -> None:
    with pytest.raises(Invalid):
        InProcessCache(max_entries=0)


async def test_rate_window_slides_rather_than_resetting() -> None:
    clock = ManualClock()
    limiter = InProcessRateLimiter(clock=clock)
    assert (await limiter.hit("k", 2, 10)).allowed  # t=0
    clock.advance(6)
    assert (await limiter.hit("k", 2, 10)).allowed  # t=6
    clock.advance(2)
    denied = await limiter.hit("k", 2, 10)  # t=8: hits at 0 and 6 are inside (-2, 8]
    assert not denied.allowed
    assert denied.retry_after_s == pytest.approx(2)
    clock.advance(2)
    assert (await limiter.hit("k", 2, 10)).allowed  # t=10: the hit at 0 has left the window
    clock.advance(2)
    denied = await limiter.hit("k", 2, 10)  # t=12: 6 and 10 remain, a fixed window would have reset at 10
    assert not denied.allowed
    assert denied.retry_after_s == pytest.approx(4)


async def test_a_lowered_limit_waits_until_enough_hits_leave_the_window() -> None:
    clock = ManualClock()
    limiter = InProcessRateLimiter(clock=clock)
    for _ in range(5):  # hits at t = 0, 1, 2, 3, 4
        await limiter.hit("k", 5, 10)
        clock.advance(1)
    denied = await limiter.hit("k", 2, 10)  # t=5: one slot under limit 2 frees when t=3 leaves
    assert denied.retry_after_s == pytest.approx(8)
    clock.advance(8)
    assert (await limiter.hit("k", 2, 10)).allowed


async def test_quiet_rate_keys_are_forgotten() -> None:
    clock = ManualClock()
    limiter = InProcessRateLimiter(clock=clock)
    for i in range(2000):
        await limiter.hit(f"user-{i}", 1, 1)
    clock.advance(5)
    for _ in range(1100):  # enough hits to trigger a sweep of idle keys
        await limiter.hit("active", 10_000, 60)
    assert limiter.tracked_keys == 1


def test_manual_clock_moves_only_when_told() -> None:
    start = datetime(2025, 5, 1, 12, tzinfo=UTC)
    clock = ManualClock(start)
    assert clock.now() == start
    assert clock.advance(90) == start + timedelta(seconds=90)
    clock.set(start)
    assert clock.now() == start
    with pytest.raises(Invalid):
        clock.advance(-1)
    with pytest.raises(Invalid):
        clock.set(datetime(2025, 5, 1))


def test_system_clock_is_timezone_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
