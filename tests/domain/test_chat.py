from __future__ import annotations

from datetime import timedelta

import pytest

from jyntrix_domain.chat_events import ContextEvent, ConversationEvent, DoneEvent, ErrorEvent, TokenEvent
from jyntrix_domain.errors import Invalid, NotFound, Unavailable
from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import Role
from jyntrix_domain.tasks import ExtractMemories
from tests.domain.kit import Kit

PHASES = [
    "setup.embedding",
    "setup.turn_memory",
    "setup",
    "query_analysis",
    "retrieval",
    "context_building",
    "llm_streaming",
    "save_response",
    "enqueue_tasks",
]


async def collect(kit: Kit, text: str, conversation_id: str | None = None, message_id: str | None = None) -> list:
    return [
        event async for event in kit.chat.send_message_stream("alice", text, conversation_id, message_id=message_id)
    ]


async def test_events_arrive_in_order_and_both_messages_are_stored() -> None:
    kit = Kit()
    kit.llm = kit.chat._llm = type(kit.llm)(["You live in Berlin [1]."])
    await kit.memories.create("alice", NewMemory(content="The user lives in Berlin"))
    events = await collect(kit, "Where do I live?")
    kinds = [type(e) for e in events]
    assert kinds[0] is ConversationEvent and kinds[1] is ContextEvent and kinds[-1] is DoneEvent
    assert set(kinds[2:-1]) == {TokenEvent}
    assert "".join(e.delta for e in events if isinstance(e, TokenEvent)) == "You live in Berlin [1]."
    context = events[1]
    assert [m.content for m in context.memories] == ["The user lives in Berlin"]
    assert context.memories[0].ref == 1
    done = events[-1]
    messages = await kit.conversations.messages("alice", events[0].id)
    assert [(m.role, m.content) for m in messages] == [
        (Role.USER, "Where do I live?"),
        (Role.ASSISTANT, "You live in Berlin [1]."),
    ]
    assert done.message_id == messages[1].id and done.user_message_id == messages[0].id
    assert list(done.phase_timings) == PHASES


async def test_the_turn_enqueues_extraction_of_both_messages() -> None:
    kit = Kit()
    events = await collect(kit, "My name is Maria")
    await kit.tasks.drain()
    [task] = kit.enqueued
    assert isinstance(task, ExtractMemories)
    assert task.message_ids == (events[-1].user_message_id, events[-1].message_id)
    assert task.conversation_id == events[0].id
    assert task.key == f"extract:{events[0].id}:{events[-1].user_message_id}"


async def test_each_phase_is_a_span() -> None:
    kit = Kit()
    await collect(kit, "Where do I live?")
    await kit.emitter.flush()
    spans = await kit.sink.query(kit.clock.now() - timedelta(days=1), kit.clock.now() + timedelta(days=1), kind="phase")
    assert sorted(s.name for s in spans) == sorted(PHASES)
    assert len({s.trace_id for s in spans}) == 1


async def test_a_failing_model_yields_an_error_and_loses_nothing() -> None:
    kit = Kit()
    kit.llm.fail_next(error=Unavailable("model is down"))
    events = await collect(kit, "Remember that I like tea")
    assert isinstance(events[-1], ErrorEvent)
    assert events[-1].code == "unavailable"
    conversation_id = events[0].id
    stored = await kit.conversations.messages("alice", conversation_id)
    assert [m.content for m in stored] == ["Remember that I like tea"]
    retried = await collect(kit, "Remember that I like tea", conversation_id, message_id=events[-1].user_message_id)
    assert isinstance(retried[-1], DoneEvent)
    stored = await kit.conversations.messages("alice", conversation_id)
    assert [m.role for m in stored] == [Role.USER, Role.ASSISTANT]


async def test_an_unknown_conversation_is_not_found() -> None:
    kit = Kit()
    with pytest.raises(NotFound):
        await collect(kit, "hello", "no-such-conversation")


async def test_another_users_conversation_is_not_found() -> None:
    kit = Kit()
    theirs = await kit.chat.start_conversation("bob")
    with pytest.raises(NotFound):
        await collect(kit, "hello", theirs.id)


@pytest.mark.parametrize("text", ["", "   ", "x" * 32_001])
async def test_empty_or_huge_messages_are_refused(text: str) -> None:
    kit = Kit()
    with pytest.raises(Invalid):
        await collect(kit, text)


async def test_small_talk_skips_retrieval() -> None:
    kit = Kit()
    await kit.memories.create("alice", NewMemory(content="The user lives in Berlin"))
    events = await collect(kit, "hi")
    assert events[1].memories == [] and events[1].strategies == []
