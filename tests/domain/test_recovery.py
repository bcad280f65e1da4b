"""Extraction that survives a crash: a chat turn's batch is pending from its message's write until claimed,
and `requeue_unfinished` enqueues what a dead process left, which then extracts once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_domain.chat_events import ConversationEvent
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.model import Conversation, Memory, MemoryFilter, MemoryKind, MemoryType, Message, Role
from jyntrix_domain.recovery import requeue_unfinished
from jyntrix_domain.tasks import ExtractMemories, decode_task, encode_task
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
    extraction = ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor())
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
    extraction = ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor())
    await extraction.extract(task.user_id, task.conversation_id, task.message_ids)
    assert await kit.ledger.pending_count(USER, conversation_id) == 0
    assert await kit.ledger.unfinished(kit.clock.now() + timedelta(days=1)) == []


class UndatedExtractor:
    """An extractor (say, a model) that proposes a fact without saying when it held."""

    name = "undated"
    reads_known = False

    async def extract(self, messages: Sequence[Message], known: Sequence[Memory] = ()) -> list[FactCandidate]:
        return [
            FactCandidate(type=MemoryType.SEMANTIC, content="The user keeps bees", source_message_ids=(messages[0].id,))
        ]


async def test_a_task_carries_its_batchs_time_which_dates_a_fact_without_one() -> None:
    kit = Kit()
    said = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    task = ExtractMemories(user_id=USER, conversation_id="c1", message_ids=("m1",), now=said)
    assert decode_task(encode_task(task)) == task
    assert b"now" not in encode_task(ExtractMemories(user_id=USER, conversation_id="c1", message_ids=("m1",)))

    conversation = Conversation(id="c1", user_id=USER, created_at=said, updated_at=said)
    await kit.conversations.create(conversation)
    message = Message(id="m1", conversation_id="c1", user_id=USER, role=Role.USER, content="Bees!", created_at=said)
    await kit.conversations.add_messages([message])
    extraction = ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=UndatedExtractor())
    await extraction.extract(USER, "c1", task.message_ids, now=task.now)
    (fact,) = await kit.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.FACT}), limit=10))
    assert fact.created_at == said
