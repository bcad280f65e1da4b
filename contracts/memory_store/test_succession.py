"""MemoryStore contract, succession: supersede, its refusals and races, and one current memory per content."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from contracts.memory_store.records import ALL, T0, edit, mem
from jyntrix_domain.errors import Conflict
from jyntrix_domain.model import (
    ChangeKind,
    MemoryFilter,
    new_id,
)
from jyntrix_domain.ports import MemoryStore


async def test_supersede_hides_old_memory_from_current_queries_and_keeps_chain(store: MemoryStore, user: str) -> None:
    old = mem(user, "I live in Paris")
    new = mem(user, "I live in Berlin", minutes=5)
    await store.add(old)
    await store.add(new)
    retired = edit(old, valid_until=new.created_at, superseded_by=new.id)
    await store.update(retired, ChangeKind.SUPERSEDE)

    assert [m.id for m in await store.list(user, MemoryFilter())] == [new.id]
    assert [m.id for m in await store.list(user, ALL)] == [new.id, old.id]
    assert await store.count(user, MemoryFilter()) == 1
    last = (await store.history(user, old.id))[-1]
    assert (last.kind, last.superseded_by) == (ChangeKind.SUPERSEDE, new.id)


async def test_supersede_ends_the_old_links_it_and_inserts_the_successor(store: MemoryStore, user: str) -> None:
    old = mem(user, "I live in Paris")
    new = mem(user, "I live in Berlin", minutes=5)
    await store.add(old)
    assert await store.supersede(user, old.id, new, new.created_at) == new.id

    ended = await store.get(user, old.id)
    assert ended is not None
    assert (ended.valid_until, ended.superseded_by, ended.content) == (new.created_at, new.id, "I live in Paris")
    assert [m.id for m in await store.list(user, MemoryFilter())] == [new.id]
    assert [c.kind for c in await store.history(user, old.id)] == [ChangeKind.CREATE, ChangeKind.SUPERSEDE]
    assert [c.kind for c in await store.history(user, new.id)] == [ChangeKind.CREATE]


async def test_supersede_of_a_memory_no_longer_current_or_unknown_changes_nothing(
    store: MemoryStore, user: str
) -> None:
    old = mem(user, "I live in Paris")
    await store.add(old)
    first, second = mem(user, "Berlin", minutes=1), mem(user, "Rome", minutes=2)
    assert await store.supersede(user, old.id, first, first.created_at) == first.id
    assert await store.supersede(user, old.id, second, second.created_at) is None
    assert await store.supersede(user, "no-such-memory", second, second.created_at) is None
    assert await store.get(user, second.id) is None
    assert (await store.get(user, old.id)).superseded_by == first.id  # type: ignore[union-attr]


async def test_supersede_refuses_itself_or_another_memory_as_successor(store: MemoryStore, user: str) -> None:
    # Linking a memory to itself or to an unrelated one would lose the new content.
    a, b = mem(user, "Paris"), mem(user, "Lyon")
    await store.add(a)
    await store.add(b)
    assert await store.supersede(user, a.id, edit(a, content="Berlin"), T0) is None
    assert await store.supersede(user, a.id, edit(b, content="Berlin"), T0) is None
    assert {m.content for m in await store.list(user, MemoryFilter())} == {"Paris", "Lyon"}
    assert [c.kind for c in await store.history(user, a.id)] == [ChangeKind.CREATE]


async def test_a_successor_saying_what_a_current_memory_says_is_that_memory(store: MemoryStore, user: str) -> None:
    old, there = mem(user, "I live in Paris"), mem(user, "I live in Berlin", minutes=1)
    await store.add(old)
    await store.add(there)
    successor = mem(user, "i live  in BERLIN", minutes=2)
    assert await store.supersede(user, old.id, successor, successor.created_at) == there.id
    assert await store.get(user, successor.id) is None
    assert (await store.get(user, old.id)).superseded_by == there.id  # type: ignore[union-attr]
    supersedes = [c for c in await store.history(user, old.id) if c.kind is ChangeKind.SUPERSEDE]
    assert [c.superseded_by for c in supersedes] == [there.id]


async def test_one_content_is_one_current_memory_per_user(store: MemoryStore, user: str) -> None:
    other_user = new_id()
    first = mem(user, "I live in Berlin")
    assert await store.add(first) is True
    # Whitespace and case aside, the same content: not added, whatever its id.
    assert await store.add(mem(user, "  i live in   berlin ", minutes=1)) is False
    assert await store.add_many(user, [mem(user, "I LIVE IN BERLIN"), mem(user, "I live in Rome")]) == [False, True]
    # Another user's, or one that ended, is no twin.
    assert await store.add(mem(other_user, "I live in Berlin")) is True
    ended = mem(user, "I live in Berlin", minutes=2, valid_until=T0, superseded_by=first.id)
    assert await store.add(ended) is True
    # An edit cannot make a current memory the twin of another.
    rome = next(m for m in await store.list(user, MemoryFilter()) if m.content == "I live in Rome")
    with pytest.raises(Conflict):
        await store.update(edit(rome, content="I live in berlin"))
    # Once the first ends, its content is free again.
    successor = mem(user, "I live in Lisbon", minutes=3)
    await store.supersede(user, first.id, successor, successor.created_at)
    assert await store.add(mem(user, "I live in Berlin", minutes=4)) is True


async def test_one_current_successor_may_replace_several_memories(store: MemoryStore, user: str) -> None:
    # Consolidation replaces several holders of a slot with one new fact, and a retry asks again: the very
    # memory asked for, still current, is linked as it is.
    a, b, new = mem(user, "Paris"), mem(user, "Lyon"), mem(user, "Berlin", minutes=3)
    await store.add(a)
    await store.add(b)
    assert await store.supersede(user, a.id, new, new.created_at) == new.id
    assert await store.supersede(user, b.id, edit(new, reliability=0.1), new.created_at) == new.id
    assert (await store.get(user, new.id)).reliability == new.reliability  # type: ignore[union-attr]
    assert await store.count(user, MemoryFilter()) == 1
    assert [c.kind for c in await store.history(user, new.id)] == [ChangeKind.CREATE]


async def test_supersede_by_a_memory_that_may_not_succeed_changes_nothing(store: MemoryStore, user: str) -> None:
    # Itself, another memory that says something else, or one no longer current: the old stays current.
    a, b, c, d = (mem(user, text, minutes=n) for n, text in enumerate(["Paris", "Lyon", "Nice", "Metz"]))
    for m in (a, b, c, d):
        await store.add(m)
    assert await store.supersede(user, c.id, d, d.created_at) == d.id
    refused = [
        (a.id, a),
        (a.id, edit(a, content="Berlin")),
        (a.id, edit(b, content="Berlin")),
        (b.id, c),
    ]
    for old_id, successor in refused:
        assert await store.supersede(user, old_id, successor, T0 + timedelta(hours=1)) is None, successor.content
    assert [await store.get(user, m.id) for m in (a, b)] == [a, b]
    assert [c.kind for c in await store.history(user, a.id)] == [ChangeKind.CREATE]
    assert (await store.get(user, c.id)).superseded_by == d.id  # type: ignore[union-attr]


async def test_concurrent_supersedes_by_one_new_id_with_other_content_let_one_win(
    store: MemoryStore, user: str
) -> None:
    olds = [mem(user, f"old {i}", minutes=i) for i in range(6)]
    for m in olds:
        await store.add(m)
    successor = mem(user, "new", minutes=10)
    results = await asyncio.gather(
        *(
            store.supersede(user, m.id, edit(successor, content=f"new {i}"), successor.created_at)
            for i, m in enumerate(olds)
        )
    )
    assert sorted(r is not None for r in results) == [False] * 5 + [True]
    winner = olds[[r is not None for r in results].index(True)]
    assert (await store.get(user, successor.id)).content == f"new {olds.index(winner)}"  # type: ignore[union-attr]
    assert [m.id for m in await store.list(user, ALL) if not m.is_current] == [winner.id]


async def test_concurrent_supersedes_of_one_memory_let_exactly_one_win(store: MemoryStore, user: str) -> None:
    old = mem(user, "v0")
    await store.add(old)
    successors = [mem(user, f"v{i}", minutes=i) for i in range(1, 11)]
    results = await asyncio.gather(*(store.supersede(user, old.id, s, s.created_at) for s in successors))
    won = [r for r in results if r is not None]
    assert len(won) == 1
    winner = next(s for s in successors if s.id == won[0])
    assert [m.id for m in await store.list(user, MemoryFilter())] == [winner.id]
    supersedes = [c for c in await store.history(user, old.id) if c.kind is ChangeKind.SUPERSEDE]
    assert [c.superseded_by for c in supersedes] == [winner.id]
