"""ProfileStore contract: every adapter behaves the same."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from jyntrix_bootstrap.resources import Storage
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Profile, new_id
from jyntrix_domain.ports import ProfileStore

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(storage: Storage) -> ProfileStore:
    return storage.profiles


async def test_round_trip(store: ProfileStore, user: str) -> None:
    p = Profile(user_id=user, updated_at=T0, display_name="Ana", preferences={"tone": "brief", "units": "metric"})
    assert await store.put(p) == p
    assert await store.get(user) == p


async def test_unknown_user_has_no_profile(store: ProfileStore, user: str) -> None:
    assert await store.get(user) is None
    assert await store.forget_user(user) is False


async def test_put_replaces_the_whole_profile(store: ProfileStore, user: str) -> None:
    await store.put(Profile(user_id=user, updated_at=T0, display_name="Ana", preferences={"a": "1", "b": "2"}))
    newer = Profile(user_id=user, updated_at=T0 + timedelta(hours=1), preferences={"b": "3"})
    await store.put(newer)
    assert await store.get(user) == newer


async def test_forget_user_removes_the_profile(store: ProfileStore, user: str) -> None:
    await store.put(Profile(user_id=user, updated_at=T0, display_name="Ana"))
    assert await store.forget_user(user) is True
    assert await store.get(user) is None
    assert await store.forget_user(user) is False


async def test_another_users_profile_is_never_returned_nor_deleted(store: ProfileStore, user: str) -> None:
    mine = Profile(user_id=user, updated_at=T0, display_name="Ana")
    await store.put(mine)
    other = new_id()
    assert await store.get(other) is None
    assert await store.forget_user(other) is False
    await store.put(Profile(user_id=other, updated_at=T0, display_name="Bo"))
    await store.forget_user(other)
    assert await store.get(user) == mine


async def test_unicode_and_long_values_round_trip(store: ProfileStore, user: str) -> None:
    p = Profile(
        user_id=user,
        updated_at=T0,
        display_name="Zoë 🌸 山田",
        preferences={"язык": "русский", "emoji": "🙂", "notes": "n" * 100_000},
    )
    await store.put(p)
    assert await store.get(user) == p


async def test_nul_characters_are_refused(store: ProfileStore, user: str) -> None:
    with pytest.raises(Invalid):
        await store.put(Profile(user_id=user, updated_at=T0, display_name="a\x00b"))


async def test_concurrent_puts_leave_one_complete_profile(store: ProfileStore, user: str) -> None:
    versions = [
        Profile(user_id=user, updated_at=T0 + timedelta(seconds=i), display_name=f"v{i}", preferences={"v": str(i)})
        for i in range(20)
    ]
    await asyncio.gather(*(store.put(p) for p in versions))
    assert await store.get(user) in versions


async def test_concurrent_users_do_not_interfere(store: ProfileStore) -> None:
    users = [new_id() for _ in range(30)]
    await asyncio.gather(*(store.put(Profile(user_id=u, updated_at=T0, display_name=u[:8])) for u in users))
    got = await asyncio.gather(*(store.get(u) for u in users))
    assert [p.display_name if p else None for p in got] == [u[:8] for u in users]
