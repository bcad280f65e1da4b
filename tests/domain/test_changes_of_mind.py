"""Changes of mind: a later statement ends what it changes, with or without a language model.

The rules read the attribute ("moved", "now a ... at", "switched from A to B", "scratch X ... instead"); a
generic rule ends earlier statements on the same topic after a cue of change; a language model shown the
user's current facts names the ones a new fact replaces. Whatever ends stays as history.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_domain.currency import ChangeConfig
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.llm_extraction import LLMExtractor
from jyntrix_domain.model import Memory, MemoryFilter, MemoryKind
from jyntrix_domain.prompts import Prompt
from jyntrix_domain.turns import remember_turns
from tests.domain.kit import Kit
from tests.domain.test_extraction import USER, conversation_with, new_kit
from testsupport.scripted_language_model import ScriptedLanguageModel

FACTS = frozenset({MemoryKind.FACT})


async def tell(kit: Kit, extraction: ExtractionService, said: list[str], conversation: str) -> None:
    """The user says `said` (each a message, turned into turns as chat does), then extraction runs."""
    kit.clock.advance(timedelta(days=30))
    ids = await conversation_with(kit, said, conversation)
    messages = await kit.conversations.get_messages(USER, ids)
    await remember_turns(kit.memories, USER, sorted(messages, key=lambda m: m.created_at), language=EnglishLanguage())
    await extraction.extract(USER, conversation, ids)


async def everything(kit: Kit) -> list[Memory]:
    return await kit.memories.list(USER, MemoryFilter(current_only=False, limit=500))


def standing(memories: list[Memory], kinds: frozenset[MemoryKind] = FACTS) -> dict[str, bool]:
    return {m.content: m.current for m in memories if m.kind in kinds}


async def test_natural_updates_supersede_the_earlier_value_of_each_attribute() -> None:
    kit = new_kit()
    extraction = ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor())
    await tell(
        kit,
        extraction,
        [
            "I live in Berlin.",
            "I work as a UX designer at Zalando.",
            "I'm learning Dutch on Duolingo.",
            "I'm training for the Berlin half marathon.",
        ],
        "c1",
    )
    await tell(
        kit,
        extraction,
        [
            "Quick update: I actually left Zalando last month, I'm now a product manager at N26.",
            "We moved into our flat in Amsterdam last week.",
            "I switched from Duolingo to Babbel, the lessons are better.",
            "Scratch the half marathon, I hurt my knee, I'm swimming instead.",
        ],
        "c2",
    )
    facts = standing(await everything(kit))
    assert facts["The user lives in Amsterdam"] and not facts["The user lives in Berlin"]
    assert facts["The user works at N26"] and not facts["The user works at Zalando"]
    # A role said with its employer is worded with it: leaving the employer ends the role too.
    assert facts["The user works as a product manager at N26"]
    assert not facts["The user works as a UX designer at Zalando"]
    # The thing replaced, said again with its replacement: what the user learns with now.
    assert facts["The user is learning Dutch on Babbel"] and not facts["The user is learning Dutch on Duolingo"]
    assert not facts["The user is training for the Berlin half marathon"]
    assert facts["The user is no longer training for the Berlin half marathon; The user is swimming instead"]
    # The turns that said only what ended end with it; the turns of the changes stay current.
    turns = standing(await everything(kit), frozenset({MemoryKind.TURN}))
    assert not turns["I live in Berlin."] and not turns["I'm learning Dutch on Duolingo."]
    assert turns["We moved into our flat in Amsterdam last week."]
    ended = next(m for m in await everything(kit) if m.content == "The user lives in Berlin")
    assert ended.valid_until is not None and ended.superseded_by is not None


async def test_a_change_no_attribute_reads_ends_the_earlier_statement_on_its_topic() -> None:
    kit = new_kit()
    # The kit's hash embedder measures shared words, not meaning: its cosines run lower than MiniLM's.
    change = ChangeConfig(min_similarity=0.3)
    extraction = ExtractionService(
        kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor(), change=change
    )
    await tell(kit, extraction, ["I keep my bonsai collection on the balcony."], "c1")
    await tell(kit, extraction, ["Other news: my sister visited us."], "c2")
    await tell(kit, extraction, ["I moved the bonsai collection to the greenhouse."], "c3")
    turns = standing(await everything(kit), frozenset({MemoryKind.TURN}))
    assert not turns["I keep my bonsai collection on the balcony."]
    assert turns["I moved the bonsai collection to the greenhouse."]
    # Unrelated statements stay: the topic is shared words and meaning, not the cue alone.
    assert turns["Other news: my sister visited us."]


def _facts_in(prompt: Prompt) -> dict[str, str]:
    """The current facts an extraction prompt shows, content -> id."""
    shown = prompt.messages[-1].content.split("Messages:")[0]
    return {m.group(3): m.group(1) for m in re.finditer(r"\[([^\]]+)\] \(([^)]*)\) (.+)", shown)}


def changes_of_mind(prompt: Prompt, schema: Mapping[str, Any]) -> Any:
    """A model that reads its prompt: what the messages say, replacing the current facts they change."""
    said = prompt.messages[-1].content.split("Messages:")[1]
    facts = _facts_in(prompt)
    out = []
    if "Berlin" in said:
        out.append({"type": "profile", "content": "The user lives in Berlin", "slot": "location", "value": "Berlin"})
    if "Amsterdam" in said:
        out.append(
            {
                "type": "profile",
                "content": "The user lives in Amsterdam",
                "slot": "location-now",  # a slot the rules never use: only the named id can end Berlin
                "value": "Amsterdam",
                "op": "replace",
                "replaces": [facts["The user lives in Berlin"], "some-other-users-memory"],
            }
        )
    if "knitting" in said and "stopped" not in said:
        out.append({"type": "semantic", "content": "The user knits on Sundays"})
    if "stopped" in said:
        out.append(
            {
                "type": "semantic",
                "content": "The user no longer knits",
                "op": "end",
                "replaces": [facts["The user knits on Sundays"]],
            }
        )
    return {"memories": out}


async def test_a_language_model_shown_the_current_facts_replaces_and_ends_them_by_id() -> None:
    kit = new_kit()
    llm = ScriptedLanguageModel(structured=changes_of_mind)
    extraction = ExtractionService(
        kit.conversation_ports,
        memories=kit.memories,
        extractor=LLMExtractor(llm, DeterministicExtractor()),
        rules=DeterministicExtractor(),
        llm=llm,
    )
    await tell(kit, extraction, ["I live in Berlin and I love knitting."], "c1")
    await tell(kit, extraction, ["We moved to Amsterdam! And I stopped knitting on Sundays, no time."], "c2")
    facts = standing(await everything(kit))
    assert facts == {
        "The user lives in Berlin": False,
        "The user knits on Sundays": False,
        "The user lives in Amsterdam": True,
        "The user no longer knits": True,
    }
    # The second prompt carried the facts current then, each with its id and slot.
    shown = _facts_in(llm.prompts[-1])
    assert set(shown) == {"The user lives in Berlin", "The user knits on Sundays"}
    assert "(location) The user lives in Berlin" in llm.prompts[-1].messages[-1].content


async def test_a_change_within_one_batch_keeps_its_history_each_at_its_own_time() -> None:
    kit = new_kit()
    extraction = ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor())
    await tell(kit, extraction, ["I live in Berlin.", "Big news: I moved to Amsterdam."], "c1")
    memories = await everything(kit)
    facts = standing(memories)
    assert facts["The user lives in Amsterdam"] and not facts["The user lives in Berlin"]
    berlin = next(m for m in memories if m.content == "The user lives in Berlin")
    amsterdam = next(m for m in memories if m.content == "The user lives in Amsterdam")
    # Berlin held until the message that said otherwise, not until the batch ran.
    assert berlin.valid_until == amsterdam.valid_from
    assert not standing(memories, frozenset({MemoryKind.TURN}))["I live in Berlin."]
