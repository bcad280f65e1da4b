"""Work in flight when its user is forgotten leaves nothing behind (issue 23, finding 2).

The delete-all lands while the work runs, after its own check that the conversation exists: here the
extractor, the summary's model or the embedder forgets the user, the latest moment before the work
writes. In these kits the delete-all shares no UserGate with the chat and the imports, as a delete-all
in another process would not: the work itself must notice (jyntrix_domain.in_flight).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_domain.chat_events import DoneEvent
from jyntrix_domain.errors import NotFound
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.llm_extraction import LLMExtractor
from jyntrix_domain.model import Memory, MemoryFilter, MemoryKind, Message, Role, TranscriptMessage, Vector
from jyntrix_domain.prompts import Prompt
from jyntrix_domain.task_handlers import build_handlers
from jyntrix_domain.tasks import ExtractMemories, SummariseSession
from jyntrix_domain.transcripts import TranscriptService
from tests.domain.kit import Kit
from tests.domain.test_extraction import USER, conversation_with, new_kit
from testsupport.scripted_language_model import ScriptedLanguageModel

EVERYTHING = MemoryFilter(current_only=False, limit=1000)


class ForgettingExtractor:
    """The rules extractor, with a delete-all of the user landing while it runs."""

    name = "rules"
    reads_known = False

    def __init__(self, kit: Kit) -> None:
        self._kit = kit
        self._rules = DeterministicExtractor()

    async def extract(self, messages: Sequence[Message], known: Sequence[Memory] = ()) -> list[FactCandidate]:
        candidates = await self._rules.extract(messages, known)
        await self._kit.forgetting.forget_user(USER)
        return candidates


async def nothing_left(kit: Kit) -> None:
    assert await kit.memories.list(USER, EVERYTHING) == []
    assert await kit.vectors.search(USER, await kit.embedder.embed_query("Maya Lisbon"), 10) == []
    assert await kit.keywords.search(USER, "Maya Lisbon sister", 10) == []
    assert await kit.graph.relations(USER) == []
    assert await kit.graph.entities(USER) == []


async def test_an_extraction_that_a_delete_all_overtakes_forgets_the_facts_it_wrote() -> None:
    kit = new_kit()
    ids = await conversation_with(kit, ["My sister Maya lives in Lisbon."])
    extraction = ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=ForgettingExtractor(kit))
    handlers = build_handlers(kit.conversation_ports, memories=kit.memories, extraction=extraction)
    await handlers[ExtractMemories](ExtractMemories(user_id=USER, conversation_id="c1", message_ids=tuple(ids)))
    await nothing_left(kit)


class ForgettingModel(ScriptedLanguageModel):
    """A model that summarises while a delete-all of the user lands."""

    def __init__(self, kit: Kit) -> None:
        super().__init__(structured=[{"summary": "The user's sister Maya lives in Lisbon."}])
        self._kit = kit

    async def structured(self, prompt: Prompt, schema: Mapping[str, Any]) -> Any:
        await self._kit.forgetting.forget_user(USER)
        return await super().structured(prompt, schema)


async def test_a_summary_that_a_delete_all_overtakes_is_forgotten() -> None:
    kit = new_kit()
    await conversation_with(kit, ["My sister Maya lives in Lisbon.", "She has a cat."])
    model = ForgettingModel(kit)
    rules = DeterministicExtractor()
    extraction = ExtractionService(
        kit.conversation_ports, memories=kit.memories, extractor=LLMExtractor(model, rules), rules=rules, llm=model
    )
    handlers = build_handlers(kit.conversation_ports, memories=kit.memories, extraction=extraction)
    await handlers[SummariseSession](SummariseSession(user_id=USER, conversation_id="c1"))
    await nothing_left(kit)


class ForgettingEmbedder(HashEmbedder):
    """Embeds, after a delete-all of the user lands while a text with HOLD is embedded (once)."""

    def __init__(self) -> None:
        super().__init__()
        self.kit: Kit | None = None

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        if self.kit is not None and any("HOLD" in t for t in texts):
            kit, self.kit = self.kit, None
            await kit.forgetting.forget_user(USER)
        return await super().embed(texts)


def other_process_forgets() -> tuple[Kit, ForgettingEmbedder]:
    """A kit whose delete-all shares no UserGate with its chat and imports: as in another process."""
    embedder = ForgettingEmbedder()
    kit = new_kit_with(embedder)
    embedder.kit = kit
    return kit, embedder


def new_kit_with(embedder: HashEmbedder) -> Kit:
    kit = Kit(embedder=embedder)
    kit.clock.set(new_kit().clock.now())
    return kit


async def test_a_turn_whose_user_another_process_forgets_while_it_embeds_is_set_up_after_it_whole() -> None:
    # A turn embeds its message before it stores anything, then stores the message, its pending batch and its
    # turn memory in one write (one transaction on Postgres): a delete-all that lands while it embeds is over
    # before the turn writes, and the turn keeps all of it, as one begun after the delete-all would.
    kit, _ = other_process_forgets()
    said = "HOLD My sister Maya lives in Lisbon."
    events = [e async for e in kit.chat.send_message_stream(USER, said)]
    assert isinstance(events[-1], DoneEvent), events[-1]
    (conversation,) = await kit.conversations.list(USER)
    stored = await kit.conversations.messages(USER, conversation.id)
    assert [(m.role, m.content) for m in stored][:1] == [(Role.USER, said)] and len(stored) == 2
    turns = await kit.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.TURN}), current_only=False))
    assert [t.source_message_ids for t in turns if t.role is Role.USER] == [(stored[0].id,)]


async def test_an_import_whose_user_another_process_forgets_leaves_nothing() -> None:
    kit, _ = other_process_forgets()
    transcripts = TranscriptService(kit.conversation_ports, memories=kit.memories, tasks=kit.tasks)
    said = [
        TranscriptMessage(
            role=Role.USER, content=f"HOLD My sister Maya lives in Lisbon, {i}.", created_at=kit.clock.now()
        )
        for i in range(3)
    ]
    with pytest.raises(NotFound):
        await transcripts.import_transcript(USER, said)
    assert await kit.conversations.list(USER) == []
    await nothing_left(kit)
