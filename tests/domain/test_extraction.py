"""Extraction: hand-written conversations in, expected memories out; consolidation; idempotency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from jyntrix_domain.consolidation import Consolidator, Operation
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.fact_rules import DeterministicExtractor, FactCandidate
from jyntrix_domain.language.person import third_person
from jyntrix_domain.language.time_phrases import resolve_date
from jyntrix_domain.llm_extraction import LLMExtractor
from jyntrix_domain.model import (
    ChangeKind,
    Conversation,
    Memory,
    MemoryFilter,
    MemoryKind,
    MemoryType,
    Message,
    Role,
    entity_key,
)
from jyntrix_domain.ports import ConversationPorts, LanguageModel, TaskLedger
from tests.domain.kit import Kit

USER = "user-1"
# A Wednesday: "on Friday" is 2025-01-10, "next week" the week of 2025-01-13.
NOW = datetime(2025, 1, 8, 12, 0, tzinfo=UTC)

P, S, E, R = MemoryType.PROFILE, MemoryType.SEMANTIC, MemoryType.EPISODIC, MemoryType.PROCEDURAL

Said = str | tuple[str, str]  # a user message, or (role, text)


class Case(msgspec.Struct, frozen=True):
    name: str
    messages: list[Said]
    expected: set[tuple[MemoryType, str]]
    xfail: str | None = None


CASES = [
    Case(
        "introduction",
        ["Hi, I'm Maria. I live in Lisbon and I work as a nurse."],
        {(P, "The user's name is Maria"), (P, "The user lives in Lisbon"), (P, "The user works as a nurse")},
    ),
    Case(
        "family",
        ["My sister Anna lives in Rome. My husband is called Pedro."],
        {(S, "The user's sister Anna lives in Rome"), (S, "The user's husband is Pedro")},
    ),
    Case(
        "two pets in one sentence",
        ["I have a dog named Rex and a cat called Luna."],
        {(S, "The user has a dog named Rex"), (S, "The user has a cat named Luna")},
    ),
    Case(
        "likes and dislikes",
        ["I love jazz but I can't stand techno. I prefer tea over coffee."],
        {(S, "The user loves jazz"), (S, "The user can't stand techno"), (S, "The user prefers tea over coffee")},
    ),
    Case(
        "diet and allergy",
        ["I'm vegetarian and I'm allergic to peanuts."],
        {(S, "The user is vegetarian"), (S, "The user is allergic to peanuts")},
    ),
    Case(
        "employer and job in one clause",
        ["I work at Siemens as an electrical engineer."],
        {(P, "The user works at Siemens"), (P, "The user works as an electrical engineer at Siemens")},
    ),
    Case(
        "plans with dates",
        ["I'm flying to Tokyo next week. On Friday I have a dentist appointment."],
        {
            (E, "The user is flying to Tokyo next week"),
            (E, "On Friday the user has a dentist appointment"),
        },
    ),
    Case(
        "rules for answers",
        ["From now on, please answer in Spanish. Never use emojis."],
        {(R, "The user wants answers in Spanish"), (R, "The user wants answers without emojis")},
    ),
    Case(
        "the assistant's words are never the user's facts",
        ["What's the capital of France?", ("assistant", "Paris. I live in the cloud and I love jazz.")],
        set(),
    ),
    Case("questions state nothing", ["Do you like pizza? Where should I live?"], set()),
    Case(
        "age and birthday",
        ["I'm 29 years old. My birthday is on March 3rd."],
        {(P, "The user is 29 years old"), (P, "The user's birthday is March 3rd")},
    ),
    Case(
        "a move",
        ["I moved from Paris to Berlin last month."],
        # Where the user lives, and, told in the past with its time, the move itself.
        {(P, "The user lives in Berlin"), (E, "The user moved from Paris to Berlin last month")},
    ),
    Case(
        "nationality and languages",
        ["I'm German. I speak English and Spanish."],
        {(P, "The user is German"), (P, "The user speaks English"), (P, "The user speaks Spanish")},
    ),
    Case(
        "favourites",
        ["My favourite book is Dune and my favourite band is Radiohead."],
        {(S, "The user's favourite book is Dune"), (S, "The user's favourite band is Radiohead")},
    ),
    Case(
        "studies",
        ["I'm studying computer science at ETH Zurich."],
        {(P, "The user studies computer science"), (P, "The user studies at ETH Zurich")},
    ),
    Case(
        "a past outing with a friend",
        ["Yesterday I went hiking with my friend Tom."],
        {
            (S, "The user's friend is Tom"),
            (E, "Yesterday the user went hiking with the user's friend Tom"),
        },
    ),
    Case("call me", ["Please call me Max."], {(P, "The user's name is Max")}),
    Case("small talk", ["Thanks, that's great! Haha."], set()),
    Case(
        "boss and colleague",
        ["Tom is my boss. My colleague Sarah is from Ireland."],
        {(S, "The user's boss is Tom"), (S, "The user's colleague Sarah is from Ireland")},
    ),
    Case(
        "a dislike and a fan",
        ["I hate mornings. I'm a big fan of Miles Davis."],
        {(S, "The user hates mornings"), (S, "The user is a big fan of Miles Davis")},
    ),
    Case(
        "answer style",
        ["Please keep your answers short when you reply."],
        {(R, "The user wants short answers")},
    ),
    Case(
        "several turns",
        ["My name is Ana.", ("assistant", "Nice to meet you, Ana!"), "I'm a teacher at a primary school in Porto."],
        {(P, "The user's name is Ana"), (P, "The user works as a teacher")},
    ),
    Case("a negated fact adds nothing", ["I don't live in London anymore."], set()),
    Case(
        "pronoun reference across clauses",
        ["We just adopted a puppy, her name is Bella."],
        {(S, "The user has a dog named Bella")},
    ),
    Case(
        "'I'm in <place>' after 'used to live'",
        ["I used to live in Madrid but now I'm in Seville."],
        {(P, "The user lives in Seville")},
    ),
    Case(
        "'no longer' negation",
        ["I no longer eat meat."],
        {(S, "The user doesn't eat meat")},
    ),
    Case(
        "a pet named in the next sentence",
        ["We got a kitten from the shelter last week. His name is Milo."],
        {(S, "The user has a cat named Milo")},
    ),
    Case(
        "a child named by a pronoun",
        ["We just had a baby, his name is Leo. I have a sister, she's called Anna."],
        {(S, "The user has a son named Leo"), (S, "The user has a sister named Anna")},
    ),
    Case(
        "someone the user met",
        ["I met a guy at the climbing gym, his name is Jonas."],
        {(S, "The user met a guy named Jonas")},
    ),
    Case(
        "a pronoun with nothing the user introduced",
        ["What's her name? Her name is Bella.", "My friend adopted a puppy, her name is Bella.", "Her name is Luna."],
        set(),
    ),
    Case(
        "a pronoun that may mean someone else",
        ["I have a brother, her name is Anna.", "I have a cat and a dog, his name is Rex."],
        set(),
    ),
    Case(
        "'these days I'm in <place>' after a former home",
        ["I lived in Lyon for six years, but these days I'm in Marseille."],
        {(P, "The user lives in Marseille")},
    ),
    Case(
        "'now I'm in <place>' on a visit",
        [
            "I used to live in Madrid, but now I'm in Seville for a conference.",
            "I live in Porto but right now I'm in Faro.",
        ],
        {(P, "The user lives in Porto")},
    ),
    Case(
        "habits given up",
        ["I stopped smoking last year and I don't drink coffee anymore. I gave up sugar."],
        {(S, "The user doesn't smoke"), (S, "The user doesn't drink coffee"), (S, "The user doesn't eat sugar")},
    ),
    Case(
        "a habit and its frequency",
        ["I drink coffee every day and I play tennis on Sundays."],
        {(S, "The user drinks coffee every day"), (S, "The user plays tennis on Sundays")},
    ),
    Case("a diet given up", ["I'm not vegetarian anymore."], {(S, "The user is no longer vegetarian")}),
    Case(
        "intentions, plans and jobs are not habits given up",
        ["I want to stop eating meat.", "Should I quit smoking?", "I quit my job.", "I play tennis on Sunday."],
        set(),
    ),
]


async def conversation_with(kit: Kit, said: list[Said], conversation_id: str = "c1") -> list[str]:
    if await kit.conversations.get(USER, conversation_id) is None:
        now = kit.clock.now()
        await kit.conversations.create(Conversation(id=conversation_id, user_id=USER, created_at=now, updated_at=now))
    ids = []
    for item in said:
        role, text = (Role.USER, item) if isinstance(item, str) else (Role(item[0]), item[1])
        kit.clock.advance(1)
        message = await kit.conversations.add_message(
            Message(
                id=f"{conversation_id}-m{len(ids)}-{kit.clock.now().timestamp():.0f}",
                conversation_id=conversation_id,
                user_id=USER,
                role=role,
                content=text,
                created_at=kit.clock.now(),
            )
        )
        ids.append(message.id)
    return ids


def new_kit() -> Kit:
    kit = Kit()
    kit.clock.set(NOW)
    return kit


def service(kit: Kit, llm: LanguageModel | None = None) -> ExtractionService:
    return ExtractionService(kit.conversation_ports, memories=kit.memories, llm=llm)


class ForgetfulClaims:
    """The task ledger as a worker sees it that died after writing memories, before claiming the batch."""

    def __init__(self, inner: TaskLedger) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def claimed(self, user_id: str, key: str) -> bool:
        return False

    async def claim(self, user_id: str, key: str) -> bool:
        return True


def unclaimed_service(kit: Kit) -> ExtractionService:
    """Runs a batch again as if it had never been finished, so its memories are met a second time."""
    ledger: Any = ForgetfulClaims(kit.ledger)
    return ExtractionService(
        ConversationPorts(conversations=kit.conversations, ledger=ledger, clock=kit.clock), memories=kit.memories
    )


async def current(kit: Kit) -> list[Memory]:
    """The current facts (what was said, turns, is not extraction's)."""
    return await kit.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.FACT}), limit=500))


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.name, marks=[pytest.mark.xfail(reason=c.xfail, strict=True)] if c.xfail else [])
        for c in CASES
    ],
)
async def test_extracts_the_expected_memories_from_a_conversation(case: Case) -> None:
    kit = new_kit()
    ids = await conversation_with(kit, case.messages)
    await service(kit).extract(USER, "c1", ids)
    memories = await current(kit)
    assert {(m.type, m.content) for m in memories} == case.expected
    user_messages = {i for i, said in zip(ids, case.messages, strict=True) if isinstance(said, str)}
    for memory in memories:
        assert memory.source_message_ids, memory
        assert set(memory.source_message_ids) <= user_messages


async def test_identity_facts_carry_graph_relations_from_the_user() -> None:
    kit = new_kit()
    ids = await conversation_with(kit, ["I live in Berlin. My sister is called Anna."])
    await service(kit).extract(USER, "c1", ids)
    relations = {(entity_key(r.source), r.predicate, entity_key(r.target)) for r in await kit.graph.relations(USER)}
    assert {("user", "lives_in", "berlin"), ("user", "sister", "anna")} <= relations
    entities = {e.key for e in await kit.graph.entities(USER)}
    assert {"berlin", "anna"} <= entities


async def test_hedged_statements_are_less_reliable() -> None:
    [sure] = DeterministicExtractor().extract_text("I like sushi.", NOW)
    [hedged] = DeterministicExtractor().extract_text("I think I like sushi.", NOW)
    assert hedged.content == sure.content
    assert hedged.reliability < sure.reliability


@pytest.mark.parametrize(
    ("first_person", "third"),
    [
        ("I love hiking", "The user loves hiking"),
        ("I really enjoy my job", "The user really enjoys the user's job"),
        ("I'm going to visit my mom", "The user is going to visit the user's mom"),
        ("I have a meeting with my boss", "The user has a meeting with the user's boss"),
        ("I fly to Rome", "The user flies to Rome"),
        ("Yesterday I went to the gym", "Yesterday the user went to the gym"),
    ],
)
def test_third_person_rewrites_first_person_statements(first_person: str, third: str) -> None:
    assert third_person(first_person) == third


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("tomorrow", "2025-01-09"),
        ("yesterday", "2025-01-07"),
        ("on Friday", "2025-01-10"),
        ("next Monday", "2025-01-13"),
        ("next week", "2025-01-13"),
        ("next month", "2025-02-01"),
        ("in 3 days", "2025-01-11"),
        ("two weeks ago", "2024-12-25"),
        ("on March 3rd", "2025-03-03"),
        ("the 5th of May", "2025-05-05"),
    ],
)
def test_time_phrases_resolve_against_the_message_date(phrase: str, expected: str) -> None:
    assert resolve_date(phrase, NOW.date())[0].isoformat() == expected


# ------------------------------------------------------------------ supersession


async def test_a_move_supersedes_the_old_location_and_retrieval_returns_the_new_one() -> None:
    kit = new_kit()
    extract = service(kit)
    first = await conversation_with(kit, ["I live in Paris."], "c1")
    await extract.extract(USER, "c1", first)
    [paris] = await current(kit)
    kit.clock.advance(timedelta(days=40))
    later = await conversation_with(kit, ["I moved from Paris to Berlin."], "c2")
    report = await extract.extract(USER, "c2", later)
    assert (report.added, report.superseded) == (0, 1)

    found = await kit.memories.search(USER, "where do I live?")
    contents = [r.memory.content for r in found]
    # The old home is history: still found, marked not current, and ranked below the current one.
    standing = {r.memory.content: r.current for r in found}
    assert standing == {"The user lives in Berlin": True, "The user lives in Paris": False}
    assert contents.index("The user lives in Berlin") < contents.index("The user lives in Paris")

    berlin = next(r.memory for r in found if r.memory.content == "The user lives in Berlin")
    old = await kit.memories.get(USER, paris.id)
    assert old.valid_until == kit.clock.now()
    assert old.superseded_by == berlin.id
    assert berlin.source_message_ids == (later[0],)
    assert [c.kind for c in await kit.memories.history(USER, paris.id)][-1] is ChangeKind.SUPERSEDE
    everything = await kit.memories.list(USER, MemoryFilter(current_only=False))
    assert {m.content for m in everything} == {"The user lives in Paris", "The user lives in Berlin"}


async def test_a_new_value_in_the_same_slot_supersedes_even_without_a_move() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I work at Google."]))
    await extract.extract(USER, "c1", await conversation_with(kit, ["I work for Microsoft."]))
    assert [m.content for m in await current(kit)] == ["The user works at Microsoft"]


async def test_a_changed_opinion_supersedes_the_preference() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I love coffee."]))
    report = await extract.extract(USER, "c1", await conversation_with(kit, ["I hate coffee."]))
    assert report.superseded == 1
    assert [m.content for m in await current(kit)] == ["The user hates coffee"]


async def test_a_habit_given_up_supersedes_the_habit_and_the_liking() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I love coffee. I drink coffee every day."]))
    ids = await conversation_with(kit, ["I don't drink coffee anymore."])
    report = await extract.extract(USER, "c1", ids)
    assert (report.added, report.superseded) == (0, 1)
    [stopped] = await current(kit)
    assert stopped.content == "The user doesn't drink coffee"
    everything = await kit.memories.list(USER, MemoryFilter(current_only=False))
    assert {m.superseded_by for m in everything if m.id != stopped.id} == {stopped.id}
    again = await unclaimed_service(kit).extract(USER, "c1", ids)
    assert (again.added, again.superseded, again.ignored) == (0, 0, 1)


async def test_a_habit_taken_up_again_supersedes_its_absence() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I quit smoking."]))
    report = await extract.extract(USER, "c1", await conversation_with(kit, ["I started smoking again."]))
    assert report.superseded == 1
    assert [m.content for m in await current(kit)] == ["The user smokes"]


async def test_no_longer_eating_meat_keeps_a_diet_it_agrees_with() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I'm vegetarian. I love pizza."]))
    report = await extract.extract(USER, "c1", await conversation_with(kit, ["I no longer eat meat."]))
    assert (report.added, report.superseded) == (1, 0)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I don't eat breakfast."]))
    assert {m.content for m in await current(kit)} == {
        "The user is vegetarian",
        "The user loves pizza",
        "The user doesn't eat meat",
        "The user doesn't eat breakfast",
    }


async def test_eating_meat_again_or_dropping_the_diet_supersedes_it() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I'm vegetarian."]))
    report = await extract.extract(USER, "c1", await conversation_with(kit, ["I eat meat again."]))
    assert report.superseded == 1
    assert [m.content for m in await current(kit)] == ["The user eats meat"]

    other = new_kit()
    extract = service(other)
    await extract.extract(USER, "c1", await conversation_with(other, ["I'm vegan."]))
    await extract.extract(USER, "c1", await conversation_with(other, ["I stopped being vegan."]))
    assert [m.content for m in await current(other)] == ["The user is no longer vegan"]


async def test_a_former_home_and_now_somewhere_else_supersedes_the_location() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I live in Madrid."]))
    report = await extract.extract(
        USER, "c1", await conversation_with(kit, ["I used to live in Madrid, but I'm in Seville now."])
    )
    assert report.superseded == 1
    [seville] = await current(kit)
    assert seville.content == "The user lives in Seville"


async def test_a_second_sister_does_not_replace_the_first() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["My sister is called Anna."]))
    await extract.extract(USER, "c1", await conversation_with(kit, ["My sister is called Eva."]))
    assert {m.content for m in await current(kit)} == {"The user's sister is Anna", "The user's sister is Eva"}


async def test_a_restatement_is_ignored_and_a_rewording_updates() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I like jazz."]))
    [liked] = await current(kit)
    again = await extract.extract(USER, "c1", await conversation_with(kit, ["I like jazz!"]))
    assert (again.added, again.ignored) == (0, 1)
    stronger = await extract.extract(USER, "c1", await conversation_with(kit, ["I love jazz."]))
    assert stronger.updated == 1
    [loved] = await current(kit)
    assert (loved.id, loved.content) == (liked.id, "The user loves jazz")


async def test_a_more_specific_value_updates_instead_of_superseding() -> None:
    kit = new_kit()
    consolidator = Consolidator(kit.memories)
    base = FactCandidate(type=P, content="The user lives in Berlin", slot="location", value="Berlin")
    await consolidator.apply(
        USER, await consolidator.decide(USER, msgspec.structs.replace(base, source_message_ids=("a",)))
    )
    finer = FactCandidate(
        type=P,
        content="The user lives in Berlin, Germany",
        slot="location",
        value="Berlin, Germany",
        source_message_ids=("b",),
    )
    decision = await consolidator.decide(USER, finer)
    assert decision.operation is Operation.UPDATE
    await consolidator.apply(USER, decision)
    [memory] = await current(kit)
    assert memory.content == "The user lives in Berlin, Germany"
    assert memory.source_message_ids[-1] == "b"
    assert len(memory.source_message_ids) == len(set(memory.source_message_ids))


async def test_an_unslotted_fact_restated_with_more_detail_updates_it() -> None:
    kit = new_kit()
    consolidator = Consolidator(kit.memories)
    short = FactCandidate(type=S, content="The user plays the guitar", source_message_ids=("a",))
    await consolidator.apply(USER, await consolidator.decide(USER, short))
    longer = FactCandidate(type=S, content="The user plays the guitar in a jazz band", source_message_ids=("b",))
    decision = await consolidator.decide(USER, longer)
    assert decision.operation is Operation.UPDATE
    await consolidator.apply(USER, decision)
    assert [m.content for m in await current(kit)] == ["The user plays the guitar in a jazz band"]


# ------------------------------------------------------------------ idempotency


async def test_extracting_the_same_batch_twice_adds_nothing_the_second_time() -> None:
    kit = new_kit()
    extract = service(kit)
    ids = await conversation_with(kit, ["I'm Maria. I live in Lisbon and I love fado."])
    first = await extract.extract(USER, "c1", ids)
    before = sorted(m.id for m in await current(kit))
    second = await extract.extract(USER, "c1", ids)
    assert first.added == 3 and not first.already_done
    # A finished batch is skipped up front: nothing is extracted or consolidated again.
    assert (second.added, second.updated, second.superseded, second.ignored) == (0, 0, 0, 0)
    assert second.already_done
    # Redone after a crash before its claim, every memory is met again and ignored.
    redone = await unclaimed_service(kit).extract(USER, "c1", ids)
    assert (redone.added, redone.updated, redone.superseded, redone.ignored) == (0, 0, 0, 3)
    assert sorted(m.id for m in await current(kit)) == before


async def test_concurrent_extractions_of_one_batch_create_no_duplicates() -> None:
    kit = new_kit()
    ids = await conversation_with(
        kit, ["I'm Maria. I live in Lisbon. My dog is called Bolt. I'm going to Porto tomorrow."]
    )
    workers = [service(kit) for _ in range(4)]
    await asyncio.gather(*(w.extract(USER, "c1", ids) for w in workers))
    memories = await current(kit)
    assert len(memories) == 4
    assert len({m.content for m in memories}) == 4


async def test_a_retried_supersession_keeps_one_successor() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I live in Paris."]))
    ids = await conversation_with(kit, ["I moved to Berlin."])
    await asyncio.gather(extract.extract(USER, "c1", ids), extract.extract(USER, "c1", ids))
    await extract.extract(USER, "c1", ids)
    everything = await kit.memories.list(USER, MemoryFilter(current_only=False))
    assert sorted(m.content for m in everything) == ["The user lives in Berlin", "The user lives in Paris"]


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
    extractor = LLMExtractor(llm)
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
