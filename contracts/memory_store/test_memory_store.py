"""MemoryStore contract: every adapter behaves the same (succession and restore have suites of their own)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest

from contracts.memory_store.records import ALL, T0, edit, mem
from jyntrix_domain.errors import Invalid, NotFound
from jyntrix_domain.model import (
    ChangeKind,
    MemoryFilter,
    MemoryKind,
    MemoryType,
    Origin,
    Period,
    Place,
    Relation,
    Role,
    content_key,
    new_id,
)
from jyntrix_domain.ports import MemoryStore


async def test_round_trip_keeps_every_field(store: MemoryStore, user: str) -> None:
    m = mem(
        user,
        "Anna is my sister",
        type=MemoryType.PROFILE,
        reliability=0.65,
        access_count=3,
        last_accessed_at=T0 + timedelta(days=1),
        valid_until=T0 + timedelta(days=30),
        superseded_by="next-id",
        source_message_ids=("m1", "m2"),
        entities=("anna",),
        relations=(Relation(source="user", predicate="sister", target="Anna"),),
        kind=MemoryKind.SUMMARY,
        slot="relation:sister:anna",
        value="Anna",
        place=Place(conversation_id="c1", message_id="m2", role=Role.ASSISTANT, speaker="Ann", before="Hi"),
        origin=Origin(extractor="rules", batch="b1"),
        occurred=Period(start=T0, end=T0 + timedelta(days=1)),
        metadata={"source": "chat", "nested": {"n": [1, 2.5, None, True]}},
    )
    assert await store.add(m) is True
    assert await store.get(user, m.id) == m
    assert not m.current
    changed = edit(m, slot="relation:sister:anne", value="Anne", relations=(), kind=MemoryKind.FACT)
    await store.update(changed)
    assert await store.get(user, m.id) == changed


async def test_kinds_filter_lists_and_counts(store: MemoryStore, user: str) -> None:
    turn = mem(user, "I went to Rome", kind=MemoryKind.TURN)
    fact = mem(user, "The user went to Rome", minutes=1)
    summary = mem(user, "A chat about Rome", minutes=2, kind=MemoryKind.SUMMARY)
    for m in (turn, fact, summary):
        await store.add(m)
    assert fact.kind is MemoryKind.FACT
    facts = MemoryFilter(kinds=frozenset({MemoryKind.FACT}))
    assert await store.list(user, facts) == [fact]
    assert await store.count(user, facts) == 1
    said = MemoryFilter(kinds=frozenset({MemoryKind.TURN, MemoryKind.SUMMARY}))
    assert await store.list(user, said) == [summary, turn]
    assert await store.count(user, MemoryFilter()) == 3


async def test_get_unknown_returns_none(store: MemoryStore, user: str) -> None:
    assert await store.get(user, new_id()) is None


async def test_add_many_says_which_memories_were_new(store: MemoryStore, user: str) -> None:
    there = mem(user, "already there")
    await store.add(there)
    fresh = [mem(user, f"fresh {n}", minutes=n) for n in range(3)]
    batch = [fresh[0], edit(there, content="other content"), fresh[1], fresh[2]]
    assert await store.add_many(user, batch) == [True, False, True, True]
    stored = await store.get(user, there.id)
    assert stored is not None and stored.content == "already there"
    assert {m.content for m in await store.get_many(user, [m.id for m in fresh])} == {"fresh 0", "fresh 1", "fresh 2"}
    for m in fresh:
        assert [c.kind for c in await store.history(user, m.id)] == [ChangeKind.CREATE]
    assert [c.kind for c in await store.history(user, there.id)] == [ChangeKind.CREATE]
    assert await store.add_many(user, fresh) == [False, False, False]
    assert await store.add_many(user, []) == []


async def test_add_many_refuses_a_mixed_or_repeating_batch(store: MemoryStore, user: str) -> None:
    mine = mem(user)
    with pytest.raises(Invalid):
        await store.add_many(user, [mine, mem(new_id())])
    with pytest.raises(Invalid):
        await store.add_many(user, [mine, mine])
    assert await store.count(user, ALL) == 0


async def test_add_is_idempotent_by_id(store: MemoryStore, user: str) -> None:
    m = mem(user, "first")
    assert await store.add(m) is True
    assert await store.add(edit(m, content="second")) is False
    stored = await store.get(user, m.id)
    assert stored is not None and stored.content == "first"
    assert await store.count(user, ALL) == 1
    assert [c.kind for c in await store.history(user, m.id)] == [ChangeKind.CREATE]


async def test_update_replaces_and_records_history(store: MemoryStore, user: str) -> None:
    m = mem(user, "I live in Paris")
    await store.add(m)
    changed = edit(m, content="I live in Lyon", reliability=0.9, updated_at=T0 + timedelta(hours=1))
    assert await store.update(changed) == changed
    assert await store.get(user, m.id) == changed
    history = await store.history(user, m.id)
    assert [(c.kind, c.content_before, c.content_after) for c in history] == [
        (ChangeKind.CREATE, None, "I live in Paris"),
        (ChangeKind.UPDATE, "I live in Paris", "I live in Lyon"),
    ]
    assert all(c.user_id == user and c.memory_id == m.id and c.at.tzinfo is not None for c in history)


async def test_update_of_unknown_memory_raises_not_found(store: MemoryStore, user: str) -> None:
    with pytest.raises(NotFound):
        await store.update(mem(user))


async def test_update_refuses_a_non_update_kind(store: MemoryStore, user: str) -> None:
    m = mem(user)
    await store.add(m)
    with pytest.raises(Invalid):
        await store.update(m, ChangeKind.DELETE)


async def test_delete_removes_and_records_history(store: MemoryStore, user: str) -> None:
    m = mem(user, "to forget")
    await store.add(m)
    assert await store.delete(user, m.id) is True
    assert await store.get(user, m.id) is None
    assert await store.delete(user, m.id) is False
    history = await store.history(user, m.id)
    assert [(c.kind, c.content_before, c.content_after) for c in history] == [
        (ChangeKind.CREATE, None, "to forget"),
        (ChangeKind.DELETE, "to forget", None),
    ]


async def test_history_is_oldest_first_and_empty_for_unknown(store: MemoryStore, user: str) -> None:
    m = mem(user, "v0")
    await store.add(m)
    for i in range(1, 4):
        await store.update(edit(m, content=f"v{i}"))
    await store.delete(user, m.id)
    history = await store.history(user, m.id)
    assert [c.content_after for c in history] == ["v0", "v1", "v2", "v3", None]
    assert len({c.id for c in history}) == 5
    assert await store.history(user, new_id()) == []


async def test_list_is_newest_first_with_ties_broken_by_id(store: MemoryStore, user: str) -> None:
    ids = ["b", "a", "c"]
    for i in ids:
        await store.add(mem(user, f"tie {i}", id=i))
    await store.add(mem(user, "older", id="z", minutes=-1))
    await store.add(mem(user, "newest", id="0", minutes=1))
    assert [m.id for m in await store.list(user, ALL)] == ["0", "c", "b", "a", "z"]


async def test_limit_and_offset_page_through_and_count_ignores_them(store: MemoryStore, user: str) -> None:
    made = [mem(user, f"memory {i}", minutes=i) for i in range(7)]
    for m in made:
        await store.add(m)
    newest_first = [m.id for m in reversed(made)]
    pages = [await store.list(user, MemoryFilter(limit=3, offset=o)) for o in (0, 3, 6, 9)]
    assert [[m.id for m in p] for p in pages] == [newest_first[:3], newest_first[3:6], newest_first[6:], []]
    assert await store.count(user, MemoryFilter(limit=3, offset=3)) == 7
    assert await store.list(user, MemoryFilter(limit=0)) == []


async def test_empty_store_gives_empty_results(store: MemoryStore, user: str) -> None:
    assert await store.list(user, ALL) == []
    assert await store.count(user, ALL) == 0
    assert await store.get_many(user, []) == []
    assert await store.get_many(user, [new_id()]) == []
    assert await store.forget_user(user) == 0
    await store.record_access(user, [], T0)


async def test_filter_by_types(store: MemoryStore, user: str) -> None:
    for t in MemoryType:
        await store.add(mem(user, t.value, type=t))
    wanted = frozenset({MemoryType.PROFILE, MemoryType.PROCEDURAL})
    assert {m.type for m in await store.list(user, MemoryFilter(types=wanted))} == wanted
    assert await store.count(user, MemoryFilter(types=wanted)) == 2
    assert await store.list(user, MemoryFilter(types=frozenset())) == []


async def test_created_after_is_inclusive_and_created_before_exclusive(store: MemoryStore, user: str) -> None:
    for i in range(5):
        await store.add(mem(user, f"day {i}", id=f"d{i}", created_at=T0 + timedelta(days=i)))
    window = MemoryFilter(created_after=T0 + timedelta(days=1), created_before=T0 + timedelta(days=3))
    assert [m.id for m in await store.list(user, window)] == ["d2", "d1"]
    assert await store.count(user, window) == 2
    assert [m.id for m in await store.list(user, MemoryFilter(created_after=T0 + timedelta(days=4)))] == ["d4"]
    assert [m.id for m in await store.list(user, MemoryFilter(created_before=T0 + timedelta(days=1)))] == ["d0"]


async def test_contains_is_case_insensitive_and_treats_wildcards_literally(store: MemoryStore, user: str) -> None:
    await store.add(mem(user, "I drink Green Tea", id="tea"))
    await store.add(mem(user, "Ärger über 100% Rabatt_Code", id="de"))
    await store.add(mem(user, "nothing here", id="none"))
    assert [m.id for m in await store.list(user, MemoryFilter(contains="green tea"))] == ["tea"]
    assert [m.id for m in await store.list(user, MemoryFilter(contains="ärger"))] == ["de"]
    assert [m.id for m in await store.list(user, MemoryFilter(contains="100%"))] == ["de"]
    assert [m.id for m in await store.list(user, MemoryFilter(contains="t_c"))] == ["de"]
    assert await store.list(user, MemoryFilter(contains="%")) != []
    assert await store.list(user, MemoryFilter(contains="_")) != []
    assert await store.list(user, MemoryFilter(contains="coffee")) == []
    assert await store.count(user, MemoryFilter(contains="TEA")) == 1


async def test_filters_combine(store: MemoryStore, user: str) -> None:
    await store.add(mem(user, "tea at noon", id="a", type=MemoryType.EPISODIC, minutes=1))
    await store.add(mem(user, "tea rule", id="b", type=MemoryType.PROCEDURAL, minutes=2))
    await store.add(mem(user, "old tea", id="c", type=MemoryType.EPISODIC, minutes=-60))
    f = MemoryFilter(types=frozenset({MemoryType.EPISODIC}), contains="tea", created_after=T0)
    assert [m.id for m in await store.list(user, f)] == ["a"]


async def test_get_many_returns_only_known_ids_of_the_user(store: MemoryStore, user: str) -> None:
    a, b = mem(user, "a"), mem(user, "b")
    await store.add(a)
    await store.add(b)
    found = await store.get_many(user, [a.id, "missing", b.id, a.id])
    assert sorted(m.id for m in found) == sorted([a.id, b.id])


async def test_record_access_bumps_count_and_keeps_latest_time(store: MemoryStore, user: str) -> None:
    a, b = mem(user, "a"), mem(user, "b")
    await store.add(a)
    await store.add(b)
    await store.record_access(user, [a.id], T0 + timedelta(days=2))
    await store.record_access(user, [a.id, "missing"], T0 + timedelta(days=1))
    got_a, got_b = await store.get(user, a.id), await store.get(user, b.id)
    assert got_a is not None and got_b is not None
    assert (got_a.access_count, got_a.last_accessed_at) == (2, T0 + timedelta(days=2))
    assert (got_b.access_count, got_b.last_accessed_at) == (0, None)
    assert [c.kind for c in await store.history(user, a.id)] == [ChangeKind.CREATE]


async def test_another_users_memories_are_never_returned_nor_changed(store: MemoryStore, user: str) -> None:
    intruder = new_id()
    m = mem(user, "private")
    await store.add(m)

    assert await store.get(intruder, m.id) is None
    assert await store.get_many(intruder, [m.id]) == []
    assert await store.list(intruder, ALL) == []
    assert await store.count(intruder, ALL) == 0
    assert await store.history(intruder, m.id) == []
    assert await store.delete(intruder, m.id) is False
    with pytest.raises(NotFound):
        await store.update(edit(m, user_id=intruder, content="hijacked"))
    await store.record_access(intruder, [m.id], T0)
    assert await store.forget_user(intruder) == 0

    assert await store.get(user, m.id) == m
    assert len(await store.history(user, m.id)) == 1


async def test_the_same_id_under_two_users_is_two_memories(store: MemoryStore, user: str) -> None:
    other = new_id()
    assert await store.add(mem(user, "mine", id="shared"))
    assert await store.add(mem(other, "theirs", id="shared"))
    mine, theirs = await store.get(user, "shared"), await store.get(other, "shared")
    assert mine is not None and theirs is not None
    assert (mine.content, theirs.content) == ("mine", "theirs")


async def test_forget_user_removes_memories_and_history_of_that_user_only(store: MemoryStore, user: str) -> None:
    other = new_id()
    kept = mem(other, "kept")
    await store.add(kept)
    mine = [mem(user, f"m{i}") for i in range(3)]
    for m in mine:
        await store.add(m)
    await store.update(edit(mine[0], content="changed"))
    await store.delete(user, mine[1].id)

    assert await store.forget_user(user) == 2
    assert await store.list(user, ALL) == []
    for m in mine:
        assert await store.history(user, m.id) == []
    assert await store.get(other, kept.id) == kept
    assert len(await store.history(other, kept.id)) == 1


async def test_unicode_and_100kb_text_round_trip(store: MemoryStore, user: str) -> None:
    text = "Zoë 🍵 naïve 東京 Ελληνικά עברית\n\t" + "😀" * 10 + "x" * 100_000 + " needle-ü"
    m = mem(user, text, metadata={"emoji": "🍵", "ключ": "значение", "long": "y" * 5000}, entities=("東京", "zoë"))
    await store.add(m)
    assert await store.get(user, m.id) == m
    assert [x.id for x in await store.list(user, MemoryFilter(contains="NEEDLE-Ü"))] == [m.id]
    await store.update(edit(m, content=text + " more"))
    assert (await store.history(user, m.id))[-1].content_before == text


async def test_nul_characters_are_refused(store: MemoryStore, user: str) -> None:
    with pytest.raises(Invalid):
        await store.add(mem(user, "bad \x00 byte"))


async def test_concurrent_adds_all_land(store: MemoryStore, user: str) -> None:
    made = [mem(user, f"parallel {i}", minutes=i) for i in range(60)]
    results = await asyncio.gather(*(store.add(m) for m in made))
    assert all(results)
    assert await store.count(user, ALL) == 60


async def test_concurrent_adds_of_one_id_insert_it_once(store: MemoryStore, user: str) -> None:
    m = mem(user, "once")
    results = await asyncio.gather(*(store.add(edit(m, content=f"try {i}")) for i in range(20)))
    assert sorted(results) == [False] * 19 + [True]
    assert len(await store.history(user, m.id)) == 1


async def test_concurrent_updates_each_write_a_history_row(store: MemoryStore, user: str) -> None:
    m = mem(user, "v0")
    await store.add(m)
    await asyncio.gather(*(store.update(edit(m, content=f"v{i}")) for i in range(1, 21)))
    history = await store.history(user, m.id)
    assert len(history) == 21
    # Rows chain: each change starts from what the previous one left.
    for before, after in itertools.pairwise(history):
        assert after.content_before == before.content_after


async def test_slot_source_and_content_key_filters(store: MemoryStore, user: str) -> None:
    home = mem(user, "The user lives in Berlin", slot="location", value="Berlin", source_message_ids=("m1",))
    job = mem(user, "The user works as a nurse", minutes=1, slot="job", value="nurse", source_message_ids=("m2",))
    said = mem(
        user, "I live in Berlin and I am a nurse", minutes=2, kind=MemoryKind.TURN, source_message_ids=("m1", "m2")
    )
    for m in (home, job, said):
        await store.add(m)
    assert await store.list(user, MemoryFilter(slots=frozenset({"location"}))) == [home]
    assert await store.count(user, MemoryFilter(slots=frozenset({"location", "job"}))) == 2
    assert await store.list(user, MemoryFilter(sources=frozenset({"m2"}))) == [said, job]
    assert await store.list(user, MemoryFilter(sources=frozenset({"m9"}))) == []
    keys = frozenset({content_key("the user works AS a nurse")})
    assert await store.list(user, MemoryFilter(content_keys=keys)) == [job]


async def test_user_ids_lists_every_user_with_memories_once(store: MemoryStore) -> None:
    # Other tests' users share the server: only these two are known.
    first, second, gone = sorted(new_id() for _ in range(3))
    for user_id in (first, second, second, gone):
        await store.add(mem(user_id))
    await store.forget_user(gone)
    found = [u for u in await store.user_ids() if u in {first, second, gone}]
    assert found == [first, second]
