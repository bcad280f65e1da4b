from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_domain.errors import Conflict, Invalid, NotFound
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import ChangeKind, Conversation, MemoryFilter, MemoryType, Message, Relation, Role
from tests.domain.kit import Kit, relation_memory


async def test_create_get_update_delete_round_trip() -> None:
    kit = Kit()
    memory = await kit.memories.create("alice", NewMemory(content="  The user likes tea  ", reliability=0.9))
    assert memory.content == "The user likes tea"
    assert (await kit.memories.get("alice", memory.id)) == memory
    kit.clock.advance(timedelta(hours=1))
    updated = await kit.memories.update("alice", memory.id, content="The user likes green tea")
    assert updated.content == "The user likes green tea"
    assert updated.updated_at > memory.updated_at
    assert [r.memory.id for r in await kit.memories.search("alice", "green tea")] == [memory.id]
    await kit.memories.delete("alice", memory.id)
    with pytest.raises(NotFound):
        await kit.memories.get("alice", memory.id)
    assert await kit.memories.search("alice", "green tea") == []


async def test_history_records_every_change() -> None:
    kit = Kit()
    memory = await kit.memories.create("alice", NewMemory(content="The user likes tea"))
    await kit.memories.update("alice", memory.id, content="The user likes coffee")
    await kit.memories.delete("alice", memory.id)
    history = await kit.memories.history("alice", memory.id)
    assert [c.kind for c in history][-2:] == [ChangeKind.UPDATE, ChangeKind.DELETE]
    assert history[-2].content_before == "The user likes tea"
    assert history[-2].content_after == "The user likes coffee"


async def test_supersede_keeps_the_chain_and_current_truth() -> None:
    kit = Kit()
    paris = await kit.memories.create("alice", NewMemory(content="The user lives in Paris", type=MemoryType.PROFILE))
    kit.clock.advance(timedelta(days=3))
    berlin = await kit.memories.supersede(
        "alice", paris.id, NewMemory(content="The user lives in Berlin", type=MemoryType.PROFILE)
    )
    old = await kit.memories.get("alice", paris.id)
    assert old.superseded_by == berlin.id
    assert old.valid_until == kit.clock.now()
    assert not old.is_current
    current = await kit.memories.list("alice", MemoryFilter())
    assert [m.content for m in current] == ["The user lives in Berlin"]
    everything = await kit.memories.list("alice", MemoryFilter(current_only=False))
    assert {m.content for m in everything} == {"The user lives in Paris", "The user lives in Berlin"}
    assert ChangeKind.SUPERSEDE in [c.kind for c in await kit.memories.history("alice", paris.id)]
    # A retry of the same replacement gets its successor back; another replacement of a replaced memory is refused.
    again = await kit.memories.supersede("alice", paris.id, NewMemory(content="The user lives in Berlin"))
    assert again.id == berlin.id
    with pytest.raises(Conflict):
        await kit.memories.supersede("alice", paris.id, NewMemory(content="The user lives in Rome"))
    with pytest.raises(Invalid):
        await kit.memories.update("alice", paris.id, content="edited")


async def test_bulk_import_keeps_explicit_dates_and_is_idempotent_by_id() -> None:
    kit = Kit()
    when = datetime(2023, 5, 7, 14, 0, tzinfo=UTC)
    items = [
        NewMemory(id=f"00000000-0000-4000-8000-00000000000{i}", content=f"fact {i}", created_at=when) for i in range(3)
    ]
    first = await kit.memories.bulk_import("alice", items)
    second = await kit.memories.bulk_import("alice", items)
    assert [m.id for m in first] == [m.id for m in second]
    assert all(m.created_at == when and m.valid_from == when for m in first)
    assert await kit.memories.count("alice", MemoryFilter()) == 3


@pytest.mark.parametrize(
    "new",
    [NewMemory(content="   "), NewMemory(content="x" * 20_001), NewMemory(content="ok", reliability=1.5)],
)
async def test_invalid_memories_are_refused(new: NewMemory) -> None:
    kit = Kit()
    with pytest.raises(Invalid):
        await kit.memories.create("alice", new)


async def test_unknown_memories_are_not_found_and_other_users_cannot_touch_them() -> None:
    kit = Kit()
    memory = await kit.memories.create("alice", NewMemory(content="The user likes tea"))
    for call in (
        kit.memories.get("bob", memory.id),
        kit.memories.update("bob", memory.id, content="hijacked"),
        kit.memories.delete("bob", memory.id),
        kit.memories.history("bob", memory.id),
    ):
        with pytest.raises(NotFound):
            await call
    assert (await kit.memories.get("alice", memory.id)).content == "The user likes tea"


async def test_forget_user_forgets_everything_of_one_user_only() -> None:
    kit = Kit()
    await kit.memories.create("alice", NewMemory(content="The user's sister is Anna", entities=("Anna",)))
    await kit.memories.create("bob", NewMemory(content="The user's sister is Anna", entities=("Anna",)))
    conversation = await kit.chat.start_conversation("alice")
    await kit.retrieval.retrieve("alice", "Anna")
    await kit.retrieval.retrieve("bob", "Anna")
    await kit.emitter.flush()
    await kit.ledger.claim("alice", "some-batch")
    result = await kit.forgetting.forget_user("alice")
    window = (kit.clock.now() - timedelta(days=1), kit.clock.now() + timedelta(days=1))
    assert {s.user_id for s in await kit.sink.query(*window)} == {"bob"}
    assert result.memories == 1 and result.conversations == 1
    assert await kit.conversations.get("alice", conversation.id) is None
    assert await kit.memories.search("alice", "Anna sister") == []
    assert await kit.graph.entities("alice") == []
    assert await kit.ledger.claimed("alice", "some-batch") is False
    assert len(await kit.memories.search("bob", "Anna sister")) == 1


async def test_reindex_rebuilds_the_indexes_from_the_store() -> None:
    kit = Kit()
    await kit.memories.create("alice", NewMemory(content="The user plays the cello", entities=("Cello",)))
    await kit.vectors.forget_user("alice")
    await kit.keywords.forget_user("alice")
    assert await kit.memories.search("alice", "cello") == []
    assert await kit.memories.reindex("alice") == 1
    assert [r.memory.content for r in await kit.memories.search("alice", "cello")] == ["The user plays the cello"]


ANNA_AT_ACME = relation_memory("Anna works at Acme", "Anna", "works_at", "Acme")


async def test_editing_only_the_reliability_keeps_the_memorys_relations() -> None:
    kit = Kit()
    memory = await kit.memories.create("alice", ANNA_AT_ACME)
    assert len(await kit.graph.relations("alice")) == 1
    updated = await kit.memories.update("alice", memory.id, reliability=0.95)
    assert updated.relations == (Relation(source="Anna", predicate="works_at", target="Acme"),)
    assert [(r.source, r.predicate, r.target, r.memory_id) for r in await kit.graph.relations("alice")] == [
        ("anna", "works_at", "acme", memory.id)
    ]
    assert await kit.graph.neighbours("alice", ["Anna"], 1) == {"anna": 0, "acme": 1}


async def test_reindex_rebuilds_the_graphs_relations_from_the_store() -> None:
    kit = Kit()
    memory = await kit.memories.create("alice", ANNA_AT_ACME)
    await kit.graph.forget_user("alice")
    assert await kit.memories.reindex("alice") == 1
    assert [(r.source, r.target, r.memory_id) for r in await kit.graph.relations("alice")] == [
        ("anna", "acme", memory.id)
    ]


async def test_a_metadata_edit_merges_keys_and_removes_those_set_to_none() -> None:
    kit = Kit()
    memory = await kit.memories.create(
        "alice",
        NewMemory(
            content="The user lives in Berlin",
            type=MemoryType.PROFILE,
            slot="location",
            value="Berlin",
            metadata={"source": "import", "note": "old"},
        ),
    )
    updated = await kit.memories.update("alice", memory.id, metadata={"note": None, "checked": True})
    assert updated.metadata == {"source": "import", "checked": True}
    assert (updated.slot, updated.value) == ("location", "Berlin")


async def test_a_metadata_edit_leaves_the_slot_that_consolidation_compares() -> None:
    kit = Kit()
    kit.clock.set(datetime(2025, 1, 8, 12, 0, tzinfo=UTC))
    extraction = ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor())
    conversation = await kit.conversations.create(
        Conversation(id="c1", user_id="alice", created_at=kit.clock.now(), updated_at=kit.clock.now())
    )

    async def say(message_id: str, text: str) -> None:
        kit.clock.advance(timedelta(minutes=1))
        message = Message(
            id=message_id,
            conversation_id=conversation.id,
            user_id="alice",
            role=Role.USER,
            content=text,
            created_at=kit.clock.now(),
        )
        await kit.conversations.add_message(message)
        await extraction.extract("alice", conversation.id, [message_id])

    await say("m1", "I live in Berlin.")
    [berlin] = await kit.memories.list("alice", MemoryFilter(types=frozenset({MemoryType.PROFILE})))
    await kit.memories.update("alice", berlin.id, metadata={"reviewed": True})
    await say("m2", "I live in Munich now.")
    current = await kit.memories.list("alice", MemoryFilter(types=frozenset({MemoryType.PROFILE})))
    assert [(m.slot, m.value) for m in current] == [("location", "Munich")]
    old = await kit.memories.get("alice", berlin.id)
    assert old.superseded_by == current[0].id


async def test_an_overlong_entity_key_is_refused_before_anything_is_stored() -> None:
    kit = Kit()
    with pytest.raises(Invalid, match="200 characters"):
        await kit.memories.create("alice", NewMemory(content="Straße", entities=("ß" * 150,)))
    with pytest.raises(Invalid, match="200 characters"):
        await kit.memories.create(
            "alice", NewMemory(content="x", relations=(Relation(source="a", predicate="p" * 201, target="b"),))
        )
    with pytest.raises(Invalid, match="at most 50 entities"):
        await kit.memories.create("alice", NewMemory(content="x", entities=tuple(f"e{i}" for i in range(51))))
    assert await kit.memories.count("alice", MemoryFilter(current_only=False)) == 0
    assert await kit.graph.entities("alice") == []


async def test_a_value_needs_a_slot() -> None:
    kit = Kit()
    with pytest.raises(Invalid, match="slot"):
        await kit.memories.create("alice", NewMemory(content="x", value="Berlin"))
