"""Extraction: hand-written conversations in, expected memories out."""

from __future__ import annotations

import msgspec
import pytest

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.person import third_person
from jyntrix_adapters.english.tense import tense_of
from jyntrix_domain.english_time_phrases import resolve_date
from jyntrix_domain.model import (
    MemoryType,
    entity_key,
)
from tests.domain.extraction_support import (
    NOW,
    USER,
    E,
    P,
    R,
    S,
    Said,
    conversation_with,
    current,
    new_kit,
    service,
)


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
    assert resolve_date(phrase, NOW.date(), tense=tense_of(phrase))[0].isoformat() == expected
