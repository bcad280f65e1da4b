"""BulkLimiter refuses past its bounds without waiting; KeyedLocks serialise one key and forget idle ones."""

from __future__ import annotations

import asyncio

import pytest

from jyntrix_domain.bulk import BulkLimiter
from jyntrix_domain.errors import Invalid, RateLimited, Unavailable
from jyntrix_domain.locks import KeyedLocks


async def test_bulk_limiter_bounds_each_user_and_everyone_and_frees_slots() -> None:
    limiter = BulkLimiter(per_user=1, total=2)
    async with limiter.slot("alice"):
        with pytest.raises(RateLimited) as refused:
            async with limiter.slot("alice"):
                pass
        assert refused.value.retry_after_s > 0 and refused.value.limit == 1
        async with limiter.slot("bob"):
            with pytest.raises(Unavailable):
                async with limiter.slot("carol"):
                    pass
    assert limiter.running == 0
    async with limiter.slot("alice"):
        assert limiter.running == 1
    with pytest.raises(Invalid):
        BulkLimiter(per_user=2, total=1)


async def test_keyed_locks_serialise_one_key_and_drop_idle_locks() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def work(key: str, name: str) -> None:
        async with locks.hold("alice", key):
            order.append(f"{name} in")
            await asyncio.sleep(0)
            order.append(f"{name} out")

    await asyncio.gather(work("m1", "a"), work("m1", "b"), work("m2", "c"))
    assert order.index("a out") < order.index("b in")
    assert len(locks) == 0
