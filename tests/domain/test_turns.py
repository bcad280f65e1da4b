"""Turn memories: every user message is an episodic memory, as said, idempotent per message."""

from __future__ import annotations

from datetime import UTC, datetime

from jyntrix_domain.model import MemoryFilter, MemoryKind, MemoryType, Message, Role, new_id
from jyntrix_domain.turns import QUESTION_RELIABILITY, STATEMENT_RELIABILITY, remember_turns, turn_memory_id
from tests.domain.kit import Kit

SAID_AT = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def message(text: str, role: Role = Role.USER, name: str | None = None) -> Message:
    return Message(
        id=new_id(), conversation_id="c1", user_id="alice", role=role, content=text, created_at=SAID_AT, name=name
    )


async def test_each_user_message_becomes_a_turn_memory_as_said() -> None:
    kit = Kit()
    said = [
        message("I went to a support group.", name="Caroline"),
        message("Lovely!", role=Role.ASSISTANT),
        message("Did you like it?"),
    ]
    turns = await remember_turns(kit.memories, "alice", said)
    assert [(t.content, t.kind, t.type) for t in turns] == [
        ("Caroline: I went to a support group.", MemoryKind.TURN, MemoryType.EPISODIC),
        ("Did you like it?", MemoryKind.TURN, MemoryType.EPISODIC),
    ]
    assert [t.source_message_ids for t in turns] == [(said[0].id,), (said[2].id,)]
    assert all(t.created_at == t.valid_from == SAID_AT for t in turns)
    assert [t.reliability for t in turns] == [STATEMENT_RELIABILITY, QUESTION_RELIABILITY]
    assert turns[0].id == turn_memory_id("alice", said[0].id)
    found = await kit.memories.search("alice", "support group")
    assert found[0].memory.id == turns[0].id


async def test_a_retried_turn_adds_nothing() -> None:
    kit = Kit()
    said = message("The spare key is under the blue flowerpot.")
    first = await remember_turns(kit.memories, "alice", [said])
    again = await remember_turns(kit.memories, "alice", [said])
    assert [m.id for m in first] == [m.id for m in again]
    assert await kit.memories.count("alice", MemoryFilter()) == 1


async def test_a_given_vector_is_used_instead_of_embedding_again() -> None:
    kit = Kit()
    said = message("We painted the hallway a deep teal colour.")
    vector = await kit.embedder.embed_query("something else entirely")
    (turn,) = await remember_turns(kit.memories, "alice", [said], [vector])
    hits = await kit.vectors.search("alice", vector, 1)
    assert hits[0].id == turn.id and hits[0].score > 0.999
