"""MemoryStore contract, restore: an export's memories and their history written back as given."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from contracts.memory_store.records import ALL, T0, edit, mem
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import (
    ChangeKind,
    Memory,
    MemoryChange,
    MemoryFilter,
    Relation,
    new_id,
)
from jyntrix_domain.ports import MemoryStore


def change(m: Memory, kind: ChangeKind, minutes: int, **kw: Any) -> MemoryChange:
    at = T0 + timedelta(minutes=minutes)
    return MemoryChange(id=new_id(), memory_id=m.id, user_id=m.user_id, kind=kind, at=at, **kw)


async def test_restore_keeps_memories_and_their_history_as_given(store: MemoryStore, user: str) -> None:
    newer = mem(user, "I live in Amsterdam", minutes=60, slot="home", value="Amsterdam", access_count=4)
    older = mem(
        user,
        "I live in Berlin",
        slot="home",
        value="Berlin",
        valid_until=T0 + timedelta(minutes=60),
        superseded_by=newer.id,
        updated_at=T0 + timedelta(minutes=60),
        source_message_ids=("m1",),
        relations=(Relation(source="user", predicate="lives in", target="Berlin"),),
        metadata={"mine": [1, {"x": None}]},
    )
    history = [
        change(older, ChangeKind.CREATE, 0, content_after="I live in Berlin"),
        change(older, ChangeKind.UPDATE, 5, content_before="I live in Berlin ", content_after="I live in Berlin"),
        change(newer, ChangeKind.CREATE, 60, content_after="I live in Amsterdam"),
        change(older, ChangeKind.SUPERSEDE, 60, content_before="I live in Berlin", superseded_by=newer.id),
    ]

    assert await store.restore(user, [older, newer], history) == [True, True]

    assert await store.get(user, older.id) == older
    assert await store.get(user, newer.id) == newer
    assert await store.history(user, older.id) == [history[0], history[1], history[3]]
    assert await store.history(user, newer.id) == [history[2]]
    assert await store.list(user, MemoryFilter()) == [newer]  # the superseded one is not current


async def test_restore_leaves_a_memory_that_is_there_as_it_is(store: MemoryStore, user: str) -> None:
    there = mem(user, "already there")
    await store.add(there)
    fresh = mem(user, "fresh", minutes=1)
    rows = [change(there, ChangeKind.UPDATE, 1, content_after="other"), change(fresh, ChangeKind.CREATE, 1)]

    twin = mem(user, " Already  THERE ", minutes=2)  # a current memory saying what a current one says
    assert await store.restore(user, [edit(there, content="other"), fresh, twin], rows) == [False, True, False]
    assert await store.restore(user, [fresh], rows[1:]) == [False]
    assert await store.get(user, twin.id) is None

    assert await store.get(user, there.id) == there
    assert [c.kind for c in await store.history(user, there.id)] == [ChangeKind.CREATE]
    assert await store.history(user, fresh.id) == rows[1:]
    assert await store.restore(user, [], []) == []


async def test_restore_refuses_another_users_rows_and_writes_nothing(store: MemoryStore, user: str) -> None:
    mine, theirs = mem(user), mem(new_id())
    with pytest.raises(Invalid):
        await store.restore(user, [mine, theirs], [])
    with pytest.raises(Invalid):
        await store.restore(user, [mine], [change(theirs, ChangeKind.CREATE, 0)])
    with pytest.raises(Invalid):
        await store.restore(user, [mine, mine], [])
    assert await store.count(user, ALL) == 0
    assert await store.history(user, mine.id) == []
