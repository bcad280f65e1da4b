"""An import cut half-way is finished by recovery, and never reads as finished before (issue 23, finding 13).

The process dies (here: its embedder fails for good) after the import stored every message, with their
batches pending, and a part of their turn memories; it had enqueued no extraction. After a restart,
recovery re-enqueues the pending batches, whose tasks write the missing turn memories first, index them,
and extract with the batches' own times.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_adapters.inprocess.task_queue import InProcessTaskQueue
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.model import MemoryFilter, MemoryKind, Role, TranscriptMessage, Vector
from jyntrix_domain.recovery import requeue_unfinished
from jyntrix_domain.task_handlers import build_handlers
from jyntrix_domain.tasks import ExtractMemories, decode_task, encode_task
from jyntrix_domain.transcripts import TranscriptService
from tests.domain.kit import Kit

USER = "importing-user"
SAID = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
TURNS = MemoryFilter(kinds=frozenset({MemoryKind.TURN}), current_only=False, limit=1000)


class DyingEmbedder(HashEmbedder):
    """Embeds `calls` batches, then fails as a killed process would stop: for good, until `revive()`."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.left = calls

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        if self.left <= 0:
            raise Unavailable("the process died")
        self.left -= 1
        return await super().embed(texts)

    def revive(self) -> None:
        self.left = 10**9


def name(i: int) -> str:
    """A name of its own for each message ("Friendaa", "Friendab", ...)."""
    return "Friend" + "".join(chr(97 + i // 26**k % 26) for k in (2, 1, 0))


def history(n: int) -> list[TranscriptMessage]:
    return [
        TranscriptMessage(
            role=Role.USER if i % 2 == 0 else Role.ASSISTANT,
            content=f"My friend {name(i)} lives in Lisbon." if i % 2 == 0 else "Noted.",
            created_at=SAID + timedelta(minutes=i),
        )
        for i in range(n)
    ]


async def test_an_import_cut_after_its_first_turns_is_finished_by_recovery() -> None:
    embedder = DyingEmbedder(calls=1)  # the first 200 turns are embedded and indexed; then the process dies
    kit = Kit(embedder=embedder)
    transcripts = TranscriptService(kit.conversation_ports, memories=kit.memories, tasks=kit.tasks)
    with pytest.raises(Unavailable):
        await transcripts.import_transcript(USER, history(1000), title="cut")
    assert kit.enqueued == []  # it died before enqueueing any extraction
    (conversation,) = await kit.conversations.list(USER)
    assert len(await kit.conversations.messages(USER, conversation.id, limit=2000)) == 1000
    stored = await kit.memories.count(USER, TURNS)
    assert 200 <= stored < 500
    status = await transcripts.status(USER, conversation.id)
    assert (status.pending, status.finished) == (50, False)  # never "finished" with turns missing

    # The restart: the same stores, a working process, the extraction handlers on its queue.
    embedder.revive()
    extraction = ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor())
    queue = InProcessTaskQueue(build_handlers(kit.conversation_ports, memories=kit.memories, extraction=extraction))
    assert await requeue_unfinished(kit.ledger, queue, kit.clock.now() + timedelta(seconds=1)) == 50
    await queue.drain()

    # 500 user turns and one "Noted.": the same words said again are one turn citing every message.
    assert await kit.memories.count(USER, TURNS) == 501
    assert await transcripts.status(USER, conversation.id) == type(status)(pending=0, finished=True)
    # Every turn is indexed, those stored before the crash without their indexes too.
    turns = {m.id for m in await kit.memories.list(USER, TURNS)}
    by_vector = await kit.vectors.search(USER, await HashEmbedder().embed_query("friend Lisbon"), 5000)
    by_keyword = await kit.keywords.search(USER, "friend Lisbon", 5000)
    assert turns <= {h.id for h in by_vector} and turns <= {h.id for h in by_keyword}
    # Facts are dated by their batch's time, not the recovery's.
    facts = await kit.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.FACT}), limit=1000))
    assert facts and all(f.created_at < SAID + timedelta(days=1) for f in facts)


def test_a_recovered_task_says_so_on_the_wire_and_a_normal_one_reads_as_before() -> None:
    recovered = ExtractMemories(user_id=USER, conversation_id="c1", message_ids=("m1",), recovered=True)
    assert decode_task(encode_task(recovered)) == recovered
    assert b"recovered" not in encode_task(ExtractMemories(user_id=USER, conversation_id="c1", message_ids=("m1",)))
