"""ChatService's history override: turns the caller gives stand in for the stored ones, for one call only."""

from __future__ import annotations

from jyntrix_domain.chat import SYSTEM_PROMPT
from jyntrix_domain.chat_events import DoneEvent
from jyntrix_domain.model import Role
from jyntrix_domain.prompts import ChatTurn
from tests.domain.kit import Kit


async def test_given_history_is_used_for_the_prompt_and_never_stored() -> None:
    kit = Kit()
    given = (
        ChatTurn(role=Role.USER, content="I like green tea."),
        ChatTurn(role=Role.ASSISTANT, content="Green tea, noted."),
    )
    events = [e async for e in kit.chat.send_message_stream("alice", "And oolong too.", history=given)]
    done = events[-1]
    assert isinstance(done, DoneEvent)
    prompt = next(p for p in kit.llm.prompts if p.system == SYSTEM_PROMPT)
    assert [(t.role, t.content) for t in prompt.messages] == [
        (Role.USER, "I like green tea."),
        (Role.ASSISTANT, "Green tea, noted."),
        (Role.USER, "And oolong too."),
    ]
    stored = await kit.conversations.messages("alice", done.conversation_id)
    assert [m.content for m in stored] == ["And oolong too.", "Hello there."]


async def test_given_history_replaces_the_stored_conversation() -> None:
    kit = Kit()
    first = [e async for e in kit.chat.send_message_stream("alice", "I am planning a trip.")]
    conversation_id = first[-1].conversation_id
    async for _ in kit.chat.send_message_stream("alice", "What should I pack?", conversation_id, history=()):
        pass
    prompts = [p for p in kit.llm.prompts if p.system == SYSTEM_PROMPT]
    assert [(t.role, t.content) for t in prompts[-1].messages] == [(Role.USER, "What should I pack?")]
    assert len(await kit.conversations.messages("alice", conversation_id)) == 4
