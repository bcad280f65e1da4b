"""RateLimiter contract: every RateLimiter adapter passes these same tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from jyntrix_bootstrap.resources import open_rate_limiter
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import RateDecision
from jyntrix_domain.ports import RateLimiter
from testsupport.polling import holds_within
from testsupport.redis import namespaced_factory_fixture

LimiterFactory = Callable[[str], Awaitable[RateLimiter]]


# The limiter each setting selects, opened as the container opens it: in process, or Redis (REDIS_URL).
limiter_factory = namespaced_factory_fixture(open_rate_limiter)


@pytest.fixture
async def limiter(limiter_factory: LimiterFactory) -> RateLimiter:
    return await limiter_factory("main")


async def _admitted_within(limiter: RateLimiter, key: str, limit: int, window_s: float, bound_s: float = 5.0) -> bool:
    """Keep knocking until a hit is admitted; False if none is within `bound_s`."""

    async def admitted() -> bool:
        return (await limiter.hit(key, limit, window_s)).allowed

    return await holds_within(admitted, bound_s)


async def test_allows_exactly_limit_hits_then_denies(limiter: RateLimiter) -> None:
    decisions = [await limiter.hit("user-1", 5, 60) for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert all(d.limit == 5 for d in decisions)


async def test_remaining_counts_down_to_zero(limiter: RateLimiter) -> None:
    decisions = [await limiter.hit("user-1", 4, 60) for _ in range(5)]
    assert [d.remaining for d in decisions] == [3, 2, 1, 0, 0]


async def test_admitted_hits_need_no_wait(limiter: RateLimiter) -> None:
    decision = await limiter.hit("user-1", 2, 60)
    assert decision.allowed
    assert decision.retry_after_s == 0


async def test_denied_hit_says_how_long_to_wait_within_the_window(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit("user-1", 3, 60)
    denied = await limiter.hit("user-1", 3, 60)
    assert not denied.allowed
    assert 0 < denied.retry_after_s <= 60


async def test_window_slides_and_admits_again(limiter: RateLimiter) -> None:
    for _ in range(3):
        assert (await limiter.hit("user-1", 3, 0.5)).allowed
    assert not (await limiter.hit("user-1", 3, 0.5)).allowed
    # Knocking while denied must not extend the block: only admitted hits count.
    assert await _admitted_within(limiter, "user-1", 3, 0.5)


async def test_after_a_quiet_window_the_full_limit_is_available_again(limiter: RateLimiter) -> None:
    for _ in range(2):
        await limiter.hit("user-1", 2, 0.5)
    await asyncio.sleep(0.8)  # past the window: every earlier hit has left it
    decisions = [await limiter.hit("user-1", 2, 0.5) for _ in range(2)]
    assert [(d.allowed, d.remaining) for d in decisions] == [(True, 1), (True, 0)]


async def test_keys_are_independent(limiter: RateLimiter) -> None:
    for _ in range(2):
        await limiter.hit("user-1", 2, 60)
    assert not (await limiter.hit("user-1", 2, 60)).allowed
    other = await limiter.hit("user-2", 2, 60)
    assert other.allowed
    assert other.remaining == 1


async def test_unicode_keys_are_independent(limiter: RateLimiter) -> None:
    assert (await limiter.hit("пользователь:1", 1, 60)).allowed
    assert not (await limiter.hit("пользователь:1", 1, 60)).allowed
    assert (await limiter.hit("пользователь:10", 1, 60)).allowed


async def test_namespaces_are_independent(limiter_factory: LimiterFactory) -> None:
    first, second = await limiter_factory("first"), await limiter_factory("second")
    assert (await first.hit("user-1", 1, 60)).allowed
    assert not (await first.hit("user-1", 1, 60)).allowed
    assert (await second.hit("user-1", 1, 60)).allowed


async def test_concurrent_hits_never_over_admit(limiter: RateLimiter) -> None:
    decisions: list[RateDecision] = await asyncio.gather(*(limiter.hit("burst", 50, 60) for _ in range(200)))
    admitted = [d for d in decisions if d.allowed]
    assert len(admitted) == 50
    assert sorted(d.remaining for d in admitted) == list(range(50))
    assert all(d.retry_after_s > 0 for d in decisions if not d.allowed)


async def test_a_lowered_limit_counts_the_hits_already_admitted(limiter: RateLimiter) -> None:
    for _ in range(4):
        await limiter.hit("user-1", 10, 60)
    lowered = await limiter.hit("user-1", 3, 60)
    assert not lowered.allowed
    assert lowered.limit == 3
    assert 0 < lowered.retry_after_s <= 60


async def test_limit_of_one_admits_a_single_hit(limiter: RateLimiter) -> None:
    assert (await limiter.hit("solo", 1, 60)).allowed
    assert not (await limiter.hit("solo", 1, 60)).allowed


@pytest.mark.parametrize(("limit", "window_s"), [(0, 60.0), (-1, 60.0), (5, 0.0), (5, -1.0)])
async def test_nonsense_limits_are_invalid(limiter: RateLimiter, limit: int, window_s: float) -> None:
    with pytest.raises(Invalid):
        await limiter.hit("user-1", limit, window_s)
