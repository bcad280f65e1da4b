"""PortabilityService on the in-process adapters: what an export holds, and how a restore writes it."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_domain.errors import Conflict, Invalid
from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import MemoryFilter, Message, Role, entity_key
from jyntrix_domain.portability import AccountExport, check_restorable, moved
from jyntrix_domain.turn_messages import answer_id
from jyntrix_domain.turn_places import turn_memory_id
from jyntrix_domain.turns import remember_turns
from tests.domain.kit import Kit, relation_memory

ALL = MemoryFilter(current_only=False, limit=1000)


async def filled(kit: Kit, user: str = "alice") -> AccountExport:
    """A user with a relation, a superseded fact, a conversation whose turn was remembered and answered."""
    await kit.memories.create(user, relation_memory("The user's sister is Anna", "user", "sister", "Anna"))
    berlin = await kit.memories.create(user, NewMemory(content="The user lives in Berlin", slot="home", value="Berlin"))
    kit.clock.advance(timedelta(days=1))
    await kit.memories.supersede(user, berlin.id, NewMemory(content="The user lives in Amsterdam", slot="home"))
    conversation = await kit.chat.start_conversation(user, title="Chat")
    said = Message(
        id="m1",
        conversation_id=conversation.id,
        user_id=user,
        role=Role.USER,
        content="I play the cello",
        created_at=kit.clock.now(),
    )
    answer = msgspec.structs.replace(said, id=answer_id(user, said.id), role=Role.ASSISTANT, content="Noted.")
    await kit.conversations.add_messages([said, answer])
    await remember_turns(kit.memories, user, [said], language=EnglishLanguage())
    return await kit.portability.export(user)


async def test_an_export_holds_memories_with_history_the_graph_and_conversations() -> None:
    kit = Kit()
    export = await filled(kit)
    assert {m.content for m in export.memories} >= {"The user lives in Berlin", "The user lives in Amsterdam"}
    berlin = next(m for m in export.memories if m.value == "Berlin")
    assert not berlin.is_current
    assert [c.kind.value for c in export.history[berlin.id]] == ["create", "supersede"]
    assert "anna" in {e.key for e in export.entities}
    assert [(r.predicate, entity_key(r.target)) for r in export.relations] == [("sister", "anna")]
    assert [[m.content for m in c.messages] for c in export.conversations] == [["I play the cello", "Noted."]]


async def test_a_restore_into_another_user_derives_the_derived_ids_again_and_rebuilds_the_indexes() -> None:
    kit = Kit()
    export = await filled(kit)

    report = await kit.portability.restore("bob", export)

    assert report.restored.memories == len(export.memories)
    assert (report.restored.conversations, report.restored.messages) == (1, 2)
    memories = await kit.store.list("bob", ALL)
    assert {m.user_id for m in memories} == {"bob"}
    assert turn_memory_id("bob", "m1") in {m.id for m in memories}  # not alice's derivation of it
    (conversation,) = export.conversations
    messages = await kit.conversations.messages("bob", conversation.id)
    assert [m.id for m in messages] == ["m1", answer_id("bob", "m1")]
    assert [r.memory.content for r in await kit.memories.search("bob", "cello")] == ["I play the cello"]
    assert kit.enqueued == []  # nothing is extracted again


async def test_a_restore_again_adds_nothing_and_one_into_an_account_with_other_data_is_refused() -> None:
    kit = Kit()
    export = await filled(kit)
    first = await kit.portability.restore("bob", export)
    again = await kit.portability.restore("bob", export)
    assert again.unchanged == first.restored
    assert again.restored.memories == again.restored.messages == 0

    await kit.memories.create("carol", NewMemory(content="Carol's own memory"))
    with pytest.raises(Conflict):
        await kit.portability.restore("carol", export)
    assert [m.content for m in await kit.store.list("carol", ALL)] == ["Carol's own memory"]


def test_moving_to_the_same_user_changes_nothing() -> None:
    export = AccountExport(
        user_id="alice", exported_at=Kit().clock.now(), memories=[], history={}, entities=[], relations=[], profile=None
    )
    assert moved(export, "alice") == export


async def test_what_cannot_be_restored_is_refused_naming_it() -> None:
    export = await filled(Kit())
    memory = export.memories[0]
    cases = {
        "memories[1].id 'x' is given twice": [msgspec.structs.replace(memory, id="x")] * 2,
        "memories[0]: reliability must be between 0 and 1": [msgspec.structs.replace(memory, reliability=-1)],
        "memories[0].id must be 1 to 200 characters": [msgspec.structs.replace(memory, id="")],
    }
    for problem, memories in cases.items():
        with pytest.raises(Invalid, match=problem.replace("[", r"\[").replace("]", r"\]")):
            check_restorable(msgspec.structs.replace(export, memories=memories, history={}))
