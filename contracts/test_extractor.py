"""Extractor contract: the English rules and the language model's extractor, told the same conversations, lead
consolidation to the same kinds of operation (a fact added, a changed value replaced, an ended fact ended, a
question and a repeated fact adding nothing), and read only what the user said.

The language model is the scripted one (testsupport.scripted_language_model), answering as a model that follows
jyntrix_domain.llm_extraction's prompt would: the facts of the user's messages it was shown, and the ids of the
current facts they replace or end, read from the prompt. The rules read the same messages themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.inprocess.conversation_store import InMemoryConversationStore
from jyntrix_adapters.inprocess.entity_graph import InMemoryEntityGraph
from jyntrix_adapters.inprocess.memory_store import InMemoryMemoryStore
from jyntrix_domain.consolidation import Operation
from jyntrix_domain.extraction import ExtractionReport, ExtractionService
from jyntrix_domain.llm_extraction import LLMExtractor
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.model import Conversation, Memory, MemoryFilter, MemoryKind, Message, Role
from jyntrix_domain.ports import ConversationPorts, Extractor
from jyntrix_domain.prompts import Prompt
from testsupport.clock import ManualClock
from testsupport.memory_services import memory_service
from testsupport.scripted_language_model import ScriptedLanguageModel

USER = "contract-user"
NOW = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Said:
    """What a model answers for one user message: the fact, and what it replaces or ends (by wording)."""

    type: str
    content: str
    slot: str | None = None
    value: str | None = None
    op: str = "add"
    replaces: str | None = None  # a word of the current fact it makes untrue


# A model's reading of each message the conversations below contain; a message missing here states nothing.
MODEL_READS: dict[str, list[Said]] = {
    "I live in Berlin.": [Said("profile", "The user lives in Berlin", "location", "Berlin")],
    "I moved to Amsterdam.": [
        Said("profile", "The user lives in Amsterdam", "location", "Amsterdam", "replace", replaces="Berlin")
    ],
    "I work as a nurse.": [Said("profile", "The user works as a nurse", "job", "nurse")],
    "I'm allergic to peanuts.": [Said("semantic", "The user is allergic to peanuts", "allergy:peanuts", "allergic")],
    "I am allergic to peanuts.": [Said("semantic", "The user is allergic to peanuts", "allergy:peanuts", "allergic")],
    "I love knitting.": [Said("semantic", "The user loves knitting", "preference:knitting", "positive")],
    "I stopped knitting, no time.": [Said("semantic", "The user no longer knits", op="end", replaces="knitting")],
    # What the assistant says is never the user's: shown it, a model would take it for a fact.
    "You live in Paris, I believe.": [Said("profile", "The user lives in Paris", "location", "Paris")],
}

_FACT_LINE = re.compile(r"^\[(?P<id>[^\]]+)\] \([^)]*\) (?P<content>.*)$")
_MESSAGE_LINE = re.compile(r"^\[\d{4}-\d{2}-\d{2}\] (?P<text>.*)$")


def model_answer(prompt: Prompt, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The structured answer to an extraction prompt: each shown message's facts, with the ids they replace."""
    assert "memories" in schema["properties"]
    asked = prompt.messages[-1].content
    facts_part, _, messages_part = asked.partition("\n\nMessages:\n")
    facts = [m.groupdict() for m in map(_FACT_LINE.match, facts_part.splitlines()) if m]
    memories: list[dict[str, Any]] = []
    for line in messages_part.splitlines():
        shown = _MESSAGE_LINE.match(line)
        for said in MODEL_READS.get(shown.group("text") if shown else "", []):
            replaces = [f["id"] for f in facts if said.replaces and said.replaces in f["content"]]
            memories.append(
                {
                    "type": said.type,
                    "content": said.content,
                    "reliability": 0.9,
                    **({"slot": said.slot, "value": said.value} if said.slot else {}),
                    "op": said.op,
                    "replaces": replaces,
                }
            )
    return {"memories": memories}


class Told:
    """One user's stores, and the conversations told to them through one extractor."""

    def __init__(self, extractor: Extractor) -> None:
        self.clock = ManualClock()
        self.clock.set(NOW)
        self.conversations = InMemoryConversationStore()
        self.memories: MemoryService = memory_service(InMemoryMemoryStore(), InMemoryEntityGraph(), self.clock)
        ports = ConversationPorts(
            conversations=self.conversations,
            ledger=self.conversations.ledger,
            clock=self.clock,
            language=EnglishLanguage(),
        )
        self.service = ExtractionService(ports, memories=self.memories, extractor=extractor)
        self._told = 0

    async def tell(self, *said: str | tuple[Role, str]) -> ExtractionReport:
        """A new conversation, a day after the last, with these messages; its extraction batch's report."""
        self._told += 1
        self.clock.advance(timedelta(days=1))
        conversation_id = f"c{self._told}"
        now = self.clock.now()
        await self.conversations.create(Conversation(id=conversation_id, user_id=USER, created_at=now, updated_at=now))
        ids = []
        for n, item in enumerate(said):
            role, text = (Role.USER, item) if isinstance(item, str) else item
            self.clock.advance(timedelta(seconds=1))
            message = Message(
                id=f"{conversation_id}-m{n}",
                conversation_id=conversation_id,
                user_id=USER,
                role=role,
                content=text,
                created_at=self.clock.now(),
            )
            ids.append((await self.conversations.add_message(message)).id)
        return await self.service.extract(USER, conversation_id, ids)

    async def facts(self) -> dict[str, bool]:
        """Every fact remembered, current or not (what was said as turns is not extraction's)."""
        listed = MemoryFilter(kinds=frozenset({MemoryKind.FACT}), current_only=False, limit=100)
        found: list[Memory] = await self.memories.list(USER, listed)
        return {m.content: m.current for m in found}


@pytest.fixture(params=["english_rules", "language_model"])
def extractor(request: pytest.FixtureRequest) -> Extractor:
    rules = DeterministicExtractor()
    if request.param == "english_rules":
        return rules
    # The rules stand by as its fallback; the scripted model always answers, so they never read a batch here.
    return LLMExtractor(ScriptedLanguageModel(structured=model_answer), fallback=rules)


def operations(report: ExtractionReport) -> list[Operation]:
    return [d.operation for d in report.decisions]


async def test_a_new_fact_is_added(extractor: Extractor) -> None:
    told = Told(extractor)
    report = await told.tell("I live in Berlin.", "I work as a nurse.")
    assert operations(report) == [Operation.ADD, Operation.ADD]
    assert report.extractor == extractor.name
    assert await told.facts() == {"The user lives in Berlin": True, "The user works as a nurse": True}


async def test_a_changed_value_replaces_the_old_one(extractor: Extractor) -> None:
    told = Told(extractor)
    await told.tell("I live in Berlin.")
    report = await told.tell("I moved to Amsterdam.")
    assert operations(report) == [Operation.SUPERSEDE]
    assert await told.facts() == {"The user lives in Berlin": False, "The user lives in Amsterdam": True}


async def test_an_ended_fact_holds_no_longer(extractor: Extractor) -> None:
    told = Told(extractor)
    await told.tell("I love knitting.", "I live in Berlin.")
    report = await told.tell("I stopped knitting, no time.")
    assert operations(report) == [Operation.SUPERSEDE]
    facts = await told.facts()
    assert facts.pop("The user loves knitting") is False
    assert facts.pop("The user lives in Berlin") is True  # what the ending does not mention stays
    # In the rules' words or the model's, one current fact says it ended.
    [(ended, current)] = facts.items()
    assert current and ended.startswith("The user no longer") and "knit" in ended


async def test_a_question_states_nothing(extractor: Extractor) -> None:
    told = Told(extractor)
    await told.tell("I live in Berlin.")
    report = await told.tell("Where do I live?", "Do you remember what I'm allergic to?")
    assert operations(report) == []
    assert await told.facts() == {"The user lives in Berlin": True}


async def test_a_fact_said_again_adds_nothing(extractor: Extractor) -> None:
    told = Told(extractor)
    await told.tell("I'm allergic to peanuts.")
    report = await told.tell("I am allergic to peanuts.")
    assert Operation.ADD not in operations(report) and Operation.SUPERSEDE not in operations(report)
    assert await told.facts() == {"The user is allergic to peanuts": True}


async def test_only_what_the_user_said_is_read(extractor: Extractor) -> None:
    told = Told(extractor)
    report = await told.tell("I work as a nurse.", (Role.ASSISTANT, "You live in Paris, I believe."))
    assert operations(report) == [Operation.ADD]
    assert await told.facts() == {"The user works as a nurse": True}
    [decision] = report.decisions
    assert decision.candidate.source_message_ids == ("c1-m0",)


async def test_a_batch_with_nothing_said_by_the_user_gives_no_candidates(extractor: Extractor) -> None:
    told = Told(extractor)
    report = await told.tell((Role.ASSISTANT, "You live in Paris, I believe."))
    assert report.decisions == [] and report.extractor == "none"
    assert await told.facts() == {}
