"""Extraction with a language model (structured output, falling back to the rules) and session summaries."""

from __future__ import annotations

import pytest

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.llm_extraction import LLMExtractor
from jyntrix_domain.model import (
    MemoryFilter,
    MemoryType,
    Message,
    Role,
)
from tests.domain.extraction_support import (
    USER,
    E,
    P,
    S,
    conversation_with,
    current,
    new_kit,
    service,
)

# ------------------------------------------------------------------ LLM extraction


async def test_llm_extraction_uses_the_structured_output() -> None:
    kit = new_kit()
    kit.llm = type(kit.llm)(
        structured=[
            {
                "memories": [
                    {
                        "type": "semantic",
                        "content": "The user is learning the cello",
                        "reliability": 0.7,
                        "entities": [],
                        "relations": [{"source": "user", "predicate": "learns", "target": "cello"}],
                    },
                    {"type": "profile", "content": "The user lives in Oslo", "slot": "location", "value": "Oslo"},
                ]
            }
        ]
    )
    extract = service(kit, llm=kit.llm)
    ids = await conversation_with(kit, ["Been practising cello every day since I got to Oslo."])
    report = await extract.extract(USER, "c1", ids)
    assert report.extractor == "llm"
    assert {(m.type, m.content) for m in await current(kit)} == {
        (S, "The user is learning the cello"),
        (P, "The user lives in Oslo"),
    }
    [schema] = kit.llm.schemas
    assert schema["required"] == ["memories"]
    [prompt] = kit.llm.prompts
    assert "cello" in prompt.messages[-1].content


@pytest.mark.parametrize(
    "structured",
    [None, ["this is not json"], [{"memories": [{"type": "feeling", "content": "x"}]}], [{"nothing": []}]],
    ids=["unsupported", "not json", "unknown type", "wrong shape"],
)
async def test_llm_extraction_falls_back_to_the_rules(structured: list[object] | None) -> None:
    kit = new_kit()
    llm = type(kit.llm)(structured=structured)
    ids = await conversation_with(kit, ["I live in Oslo."])
    report = await service(kit, llm=llm).extract(USER, "c1", ids)
    assert report.extractor == "deterministic"
    assert [m.content for m in await current(kit)] == ["The user lives in Oslo"]


async def test_llm_extraction_falls_back_when_the_model_is_down() -> None:
    kit = new_kit()
    llm = type(kit.llm)(structured=[{"memories": []}])
    llm.fail_next(error=Unavailable("model down"))
    extractor = LLMExtractor(llm, DeterministicExtractor())
    now = kit.clock.now()
    message = Message(
        id="m", conversation_id="c", user_id=USER, role=Role.USER, content="I live in Oslo.", created_at=now
    )
    [candidate] = await extractor.extract([message])
    assert candidate.content == "The user lives in Oslo"
    assert candidate.metadata["extractor"] == "deterministic"


async def test_llm_candidates_with_a_slot_supersede_the_rules_memories() -> None:
    kit = new_kit()
    await service(kit).extract(USER, "c1", await conversation_with(kit, ["I live in Paris."]))
    llm = type(kit.llm)(
        structured=[
            {
                "memories": [
                    {"type": "profile", "content": "The user lives in Rome", "slot": "location", "value": "Rome"}
                ]
            }
        ]
    )
    report = await service(kit, llm=llm).extract(USER, "c1", await conversation_with(kit, ["Settled in Rome at last."]))
    assert report.superseded == 1
    assert [m.content for m in await current(kit)] == ["The user lives in Rome"]


# ------------------------------------------------------------------ session summaries


async def test_a_session_summary_lists_the_users_statements_with_the_date() -> None:
    kit = new_kit()
    await conversation_with(kit, ["I live in Lisbon.", ("assistant", "Lovely city!"), "I'm going to Porto tomorrow."])
    summary = await service(kit).summarise_session(USER, "c1")
    assert summary is not None
    assert summary.type is MemoryType.EPISODIC
    assert summary.content.startswith("Conversation on 2025-01-08.")
    assert "The user lives in Lisbon" in summary.content
    assert "Porto" in summary.content
    assert len(summary.source_message_ids) == 3


async def test_summarising_again_adds_nothing_and_a_longer_session_supersedes_the_summary() -> None:
    kit = new_kit()
    extract = service(kit)
    await conversation_with(kit, ["I live in Lisbon."])
    first = await extract.summarise_session(USER, "c1")
    assert first is not None
    assert (await extract.summarise_session(USER, "c1")) == first
    await conversation_with(kit, ["My dog is called Bolt."])
    second = await extract.summarise_session(USER, "c1")
    assert second is not None and second.id != first.id
    assert "Bolt" in second.content
    summaries = await kit.memories.list(USER, MemoryFilter(types=frozenset({E})))
    assert [m.id for m in summaries] == [second.id]
    assert (await kit.memories.get(USER, first.id)).superseded_by == second.id


async def test_a_session_summary_uses_the_models_structured_output() -> None:
    kit = new_kit()
    llm = type(kit.llm)(structured=[{"summary": "The user talked about moving to Lisbon."}])
    await conversation_with(kit, ["Thinking about Lisbon."])
    summary = await service(kit, llm=llm).summarise_session(USER, "c1")
    assert summary is not None
    assert summary.content == "The user talked about moving to Lisbon."
    assert "Date: 2025-01-08" in llm.prompts[0].messages[0].content


async def test_a_chat_only_model_does_not_write_the_summary() -> None:
    kit = new_kit()
    llm = type(kit.llm)(["Sure! Lisbon is lovely."])  # complete() answers, structured() is Unsupported
    await conversation_with(kit, ["I live in Lisbon."])
    summary = await service(kit, llm=llm).summarise_session(USER, "c1")
    assert summary is not None
    assert summary.content == "Conversation on 2025-01-08. The user lives in Lisbon."


async def test_a_conversation_without_user_messages_has_no_summary() -> None:
    kit = new_kit()
    await conversation_with(kit, [("assistant", "Hello! How can I help?")])
    assert await service(kit).summarise_session(USER, "c1") is None
