"""The task handlers on in-process adapters, typed tasks, and the embedded deployment's queue end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.inprocess.task_queue import InProcessTaskQueue
from jyntrix_adapters.inprocess.token_counter import RegexTokenCounter
from jyntrix_domain.analytics import AnalyticsService
from jyntrix_domain.chat import ChatService
from jyntrix_domain.chat_events import DoneEvent
from jyntrix_domain.context import ContextBuilder
from jyntrix_domain.errors import Invalid
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.model import MemoryFilter, MemoryKind, MemoryType, Span, SpanKind
from jyntrix_domain.ports import TaskQueue
from jyntrix_domain.task_handlers import build_handlers
from jyntrix_domain.tasks import (
    TASK_TYPES,
    ExtractMemories,
    PurgeAnalytics,
    ReindexUser,
    SummariseSession,
    TaskHandler,
    TaskMessage,
    decode_task,
    encode_task,
)
from tests.domain.kit import Kit
from tests.domain.test_extraction import NOW, USER, conversation_with, new_kit
from tests.worker.recording_queue import RecordingQueue


def handlers_for(
    kit: Kit, tasks: TaskQueue | None = None, summary_idle_s: float = 0.0
) -> dict[type[TaskMessage], TaskHandler]:
    return build_handlers(
        kit.conversation_ports,
        memories=kit.memories,
        extraction=ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor()),
        analytics=AnalyticsService(kit.sink, kit.clock),
        tasks=tasks,
        summary_idle_s=summary_idle_s,
    )


def extract(conversation_id: str, message_ids: list[str], user_id: str = USER) -> ExtractMemories:
    return ExtractMemories(user_id=user_id, conversation_id=conversation_id, message_ids=tuple(message_ids))


def test_there_is_one_handler_per_task_type() -> None:
    assert set(handlers_for(new_kit())) == set(TASK_TYPES)


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "extract_memories"},
        {"type": "extract_memories", "user_id": USER, "conversation_id": "c1"},
        {"type": "extract_memories", "user_id": USER, "conversation_id": "c1", "message_ids": []},
        {"type": "extract_memories", "user_id": USER, "conversation_id": "c1", "message_ids": "m1"},
        {"type": "extract_memories", "user_id": "", "conversation_id": "c1", "message_ids": ["m1"]},
        {"type": "extract_memories", "user_id": USER, "conversation_id": "c1", "message_ids": [""]},
        {"type": "no_such_task", "user_id": USER},
        {"user_id": USER},
    ],
)
def test_a_malformed_task_is_invalid(payload: dict[str, object]) -> None:
    with pytest.raises(Invalid):
        decode_task(payload)
    with pytest.raises(Invalid):
        decode_task(msgspec.json.encode(payload))


def test_building_a_malformed_task_is_invalid() -> None:
    with pytest.raises(Invalid):
        ExtractMemories(user_id=USER, conversation_id="c1", message_ids=())
    with pytest.raises(Invalid):
        SummariseSession(user_id="", conversation_id="c1")
    with pytest.raises(Invalid):
        ReindexUser(user_id="")


@pytest.mark.parametrize(
    "task",
    [
        ExtractMemories(user_id=USER, conversation_id="c1", message_ids=("m1", "m2")),
        SummariseSession(user_id=USER, conversation_id="c1", if_last_message_id="m2"),
        SummariseSession(user_id=USER, conversation_id="c1"),
        ReindexUser(user_id=USER),
        PurgeAnalytics.of(NOW),
    ],
)
def test_every_task_round_trips_its_wire_format(task: TaskMessage) -> None:
    assert decode_task(encode_task(task)) == task
    assert msgspec.json.decode(encode_task(task))["type"] == task.type_name()


def test_a_tasks_key_is_derived_from_what_it_does() -> None:
    assert extract("c1", ["m1", "m2"]).key == "extract:c1:m1"
    assert SummariseSession(user_id=USER, conversation_id="c1", if_last_message_id="m9").key == "summarise:c1:m9"
    assert SummariseSession(user_id=USER, conversation_id="c1").key == "summarise:c1:"
    assert ReindexUser(user_id=USER).key == f"reindex:{USER}"
    assert PurgeAnalytics.of(NOW).key == f"purge_analytics:{NOW.date().isoformat()}"


async def test_extraction_writes_memories_and_a_deleted_conversation_is_nothing_to_do() -> None:
    kit = new_kit()
    handlers = handlers_for(kit)
    ids = await conversation_with(kit, ["I live in Lisbon."])
    await handlers[ExtractMemories](extract("c1", ids))
    assert [m.content for m in await kit.memories.list(USER, MemoryFilter())] == ["The user lives in Lisbon"]
    await kit.conversations.delete(USER, "c1")
    await handlers[ExtractMemories](extract("c1", ids))


async def test_extraction_schedules_a_summary_for_when_the_conversation_goes_idle() -> None:
    kit = new_kit()
    queue = RecordingQueue()
    handlers = handlers_for(kit, tasks=queue, summary_idle_s=900)
    ids = await conversation_with(kit, ["I live in Lisbon.", ("assistant", "Lovely!")])
    await handlers[ExtractMemories](extract("c1", ids))
    [(task, delay)] = queue.sent
    assert task == SummariseSession(user_id=USER, conversation_id="c1", if_last_message_id=ids[-1])
    assert delay == 900


async def test_an_idle_summary_is_skipped_when_the_conversation_went_on() -> None:
    kit = new_kit()
    handlers = handlers_for(kit)
    first = await conversation_with(kit, ["I live in Lisbon."])
    await conversation_with(kit, ["I'm going to Porto tomorrow."])
    await handlers[SummariseSession](SummariseSession(user_id=USER, conversation_id="c1", if_last_message_id=first[-1]))
    assert await kit.memories.list(USER, MemoryFilter(types=frozenset({MemoryType.EPISODIC}))) == []


async def test_an_idle_summary_is_written_when_nothing_was_said_since() -> None:
    kit = new_kit()
    handlers = handlers_for(kit)
    ids = await conversation_with(kit, ["I live in Lisbon.", "I'm going to Porto tomorrow."])
    idle = SummariseSession(user_id=USER, conversation_id="c1", if_last_message_id=ids[-1])
    await handlers[SummariseSession](idle)
    await handlers[SummariseSession](idle)  # redelivered: nothing new
    [summary] = await kit.memories.list(USER, MemoryFilter(types=frozenset({MemoryType.EPISODIC})))
    assert "Porto" in summary.content
    assert summary.source_message_ids == tuple(ids)


async def test_reindex_rebuilds_the_users_indexes_from_the_store() -> None:
    kit = new_kit()
    handlers = handlers_for(kit)
    await handlers[ExtractMemories](extract("c1", await conversation_with(kit, ["I love jazz."])))
    await kit.keywords.forget_user(USER)
    assert await kit.keywords.search(USER, "jazz", 5) == []
    await handlers[ReindexUser](ReindexUser(user_id=USER))
    hits = await kit.keywords.search(USER, "jazz", 5)
    assert len(hits) == 1


async def test_the_purge_removes_spans_past_retention_and_schedules_tomorrows() -> None:
    kit = new_kit()
    queue = RecordingQueue()
    handlers = handlers_for(kit, tasks=queue)

    def span(age: timedelta) -> Span:
        return Span(
            id=f"s{age.days}", trace_id="t", name="retrieval", kind=SpanKind.PHASE, started_at=NOW - age, duration_ms=1
        )

    await kit.sink.write([span(timedelta(days=91)), span(timedelta(days=89))])
    await handlers[PurgeAnalytics](PurgeAnalytics.of(NOW))
    remaining = await kit.sink.query(NOW - timedelta(days=365), NOW + timedelta(days=1))
    assert [s.id for s in remaining] == ["s89"]
    [(task, delay)] = queue.sent
    assert isinstance(task, PurgeAnalytics)
    assert task.key == "purge_analytics:2025-01-09"
    assert NOW + timedelta(seconds=delay) == datetime(2025, 1, 9, 3, 0, tzinfo=UTC)


async def test_the_in_process_queue_extracts_after_a_chat_turn() -> None:
    kit = new_kit()
    runner = InProcessTaskQueue(handlers_for(kit))
    chat = ChatService(
        kit.conversation_ports,
        retrieval=kit.retrieval,
        memories=kit.memories,
        context=ContextBuilder(RegexTokenCounter(), language=EnglishLanguage()),
        llm=kit.llm,
        tasks=runner,
    )
    events = [e async for e in chat.send_message_stream(USER, "Hi! I'm Maria and I live in Lisbon.")]
    assert isinstance(events[-1], DoneEvent)
    await runner.drain()
    await runner.close()
    # The message's turn memory is there too; the facts are what extraction added.
    memories = await kit.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.FACT})))
    assert sorted(m.content for m in memories) == ["The user lives in Lisbon", "The user's name is Maria"]
    assert all(m.source_message_ids == (events[-1].user_message_id,) for m in memories)
    assert runner.dead_letters == []
