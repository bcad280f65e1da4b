"""Extraction that survives a crash: a chat turn's batch is pending from its message's write until claimed,
and `requeue_unfinished` enqueues what a dead process left, which then extracts once."""

from __future__ import annotations

from datetime import timedelta

from jyntrix_domain.chat import ConversationEvent
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.model import MemoryFilter, MemoryKind
from jyntrix_domain.recovery import requeue_unfinished
from tests.domain.kit import Kit

USER = "recovering-user"


async def _said_then_crashed(kit: Kit, text: str) -> str:
    """A turn whose process died before its extraction ran: the message is stored, no task survives."""
    events = [e async for e in kit.chat.send_message_stream(USER, text)]
    await kit.tasks.drain()
    kit.enqueued.clear()  # what ran only recorded the task: as if the process died before extracting
    assert isinstance(events[0], ConversationEvent)
    return events[0].id


async def test_a_turns_batch_stays_pending_until_extracted_and_recovery_finishes_it() -> None:
    kit = Kit()
    conversation_id = await _said_then_crashed(kit, "My sister Maya lives in Lisbon.")
    assert await kit.ledger.pending_count(USER, conversation_id) == 1

    later = kit.clock.now() + timedelta(seconds=1)
    assert await requeue_unfinished(kit.ledger, kit.tasks, later) == 1
    await kit.tasks.drain()
    (task,) = kit.enqueued
    extraction = ExtractionService(
        conversations=kit.conversations, ledger=kit.ledger, memories=kit.memories, clock=kit.clock
    )
    report = await extraction.extract(task.user_id, task.conversation_id, task.message_ids, now=task.now)
    assert report.added >= 1
    assert await kit.ledger.pending_count(USER, conversation_id) == 0
    # Recovered again (a second process, a later pass): nothing pending, nothing added.
    assert await requeue_unfinished(kit.ledger, kit.tasks, later + timedelta(hours=1)) == 0
    facts = await kit.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.FACT}), limit=50))
    assert [f.content for f in facts if "Lisbon" in f.content] == ["The user's sister Maya lives in Lisbon"]


async def test_the_turns_own_task_claims_the_batch_its_message_opened() -> None:
    kit = Kit()
    events = [e async for e in kit.chat.send_message_stream(USER, "I work as a nurse.")]
    assert isinstance(events[0], ConversationEvent)
    conversation_id = events[0].id
    await kit.tasks.drain()
    (task,) = kit.enqueued
    assert len(task.message_ids) == 2  # the user message and the answer
    extraction = ExtractionService(
        conversations=kit.conversations, ledger=kit.ledger, memories=kit.memories, clock=kit.clock
    )
    await extraction.extract(task.user_id, task.conversation_id, task.message_ids)
    assert await kit.ledger.pending_count(USER, conversation_id) == 0
    assert await kit.ledger.unfinished(kit.clock.now() + timedelta(days=1)) == []
