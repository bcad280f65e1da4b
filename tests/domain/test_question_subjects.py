"""What a question is about (a relation of the user's, an attribute of theirs, now or before), and the memories
retrieval finds for it: other wordings than the living-memory stories."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.english.subjects import attributes_of, kin_of, kin_words
from jyntrix_domain.attributes import family_slots, slot_family
from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import MemoryKind, MemoryType
from jyntrix_domain.query import QueryAnalyzer
from tests.domain.kit import Kit

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def analyze(text: str):  # type: ignore[no-untyped-def]
    return QueryAnalyzer(EnglishLanguage()).analyze(text, NOW)


@pytest.mark.parametrize(
    ("text", "history", "now"),
    [
        ("How old is my son?", False, True),
        ("My nephew is six years old, what should I get him?", False, True),
        ("What colour was my old bike?", True, False),
        ("What was my original plan for the summer?", True, False),
        ("Which gym do I go to these days?", False, True),
        ("What's my manager called?", False, True),
        # An event in the past: what ended answers it as well as what holds.
        ("When did my brother get married?", False, False),
        ("Which band did I see in Leeds?", False, False),
        # "before" an event asks what was so then, which may still be told as true; "before" a value, what it replaced.
        ("What did I study before I moved here?", False, False),
        ("Which team did I coach before the Hornets?", True, False),
        # Saying "now" or "still" makes it about the present, whatever the tense.
        ("Did I still have the van then, or is it the bike now?", False, True),
    ],
)
def test_a_question_asks_about_now_about_before_or_about_an_event(text: str, history: bool, now: bool) -> None:
    analysis = analyze(text)
    assert (analysis.asks_history, analysis.asks_now) == (history, now)


def test_a_relation_is_read_past_the_words_before_it() -> None:
    assert kin_of("What did my late grandfather do?") == ("grandfather",)
    assert kin_of("Is my little brother still at uni?") == ("brother",)
    assert analyze("What breed was our former cat?").kin == ("cat",)
    assert {"mum", "mom", "mother"} <= kin_words("mother") and "dog" not in kin_words("mother")


@pytest.mark.parametrize(
    ("text", "attributes"),
    [
        ("How do you think I should commute?", ("transport",)),
        ("How do I get around these days?", ("transport",)),
        ("Who's my employer at the moment?", ("work",)),
        ("Which town am I living in?", ("location",)),
        ("Am I eating meat again?", ("diet",)),
        ("Where did I grow up?", ("hometown",)),
        ("What's the weather like?", ()),
    ],
)
def test_the_attributes_a_question_asks_about(text: str, attributes: tuple[str, ...]) -> None:
    assert attributes_of(text) == attributes


def test_a_question_about_someone_else_asks_no_attribute_of_the_user() -> None:
    assert analyze("Which town does my sister live in?").attributes == ()
    assert analyze("Which town do I live in?").attributes == ("location",)


def test_a_job_and_an_employer_are_one_attribute() -> None:
    assert slot_family("job") == slot_family("employer") == "work"
    assert slot_family("relation:dog:biscuit") == slot_family("relation:dog:rex") == "relation:dog"
    assert slot_family("diet") == "diet" and slot_family(None) is None
    assert family_slots("work") == {"work", "job", "employer"}


async def test_a_relation_asked_about_finds_the_memory_naming_it_and_what_is_said_of_that_name() -> None:
    kit = Kit()
    await kit.memories.create("al", NewMemory(content="My wife works nights and our son, Leo, is seven"))
    await kit.memories.create("al", NewMemory(content="Leo plays the cello in the school orchestra"))
    await kit.memories.create("al", NewMemory(content="The user's name is Al", slot="name", value="Al"))
    result = await kit.retrieval.retrieve("al", "What instrument does my son play?")
    about = {r.memory.content: r.breakdown.signals.graph for r in result.memories}
    # "our son, Leo": the name the memory gives him makes the memory about Leo his too.
    assert about["My wife works nights and our son, Leo, is seven"] == 1.0
    assert about["Leo plays the cello in the school orchestra"] == 1.0
    assert about.get("The user's name is Al", 0.0) == 0.0


async def test_a_question_about_a_previous_attribute_finds_every_ended_value_of_it() -> None:
    kit = Kit()
    role = await kit.memories.create("bo", NewMemory(content="The user is a chemist", slot="job", value="chemist"))
    firm = await kit.memories.create("bo", NewMemory(content="The user is at Bayer", slot="employer", value="Bayer"))
    await kit.memories.supersede("bo", role.id, NewMemory(content="The user is a teacher", slot="job", value="teacher"))
    await kit.memories.supersede("bo", firm.id, NewMemory(content="The user is at Hillside", slot="employer"))
    result = await kit.retrieval.retrieve("bo", "What was my previous job?")
    # Neither says "job": they are found and matched by the attribute they hold, the ended ones first.
    first = [r.memory.content for r in result.memories[:2]]
    assert set(first) == {"The user is a chemist", "The user is at Bayer"}
    assert all(r.breakdown.signals.keyword == 1.0 for r in result.memories[:2])
    now = await kit.retrieval.retrieve("bo", "Who's my employer these days?")
    assert {r.memory.content for r in now.memories[:2]} == {"The user is at Hillside", "The user is a teacher"}
    assert all(r.current for r in now.memories[:2])


async def test_what_came_before_a_named_value_is_the_value_it_replaced_not_any_earlier_one() -> None:
    kit = Kit()
    first = await kit.memories.create("cy", NewMemory(content="The user works at Acme", slot="employer"))
    second = await kit.memories.supersede(
        "cy", first.id, NewMemory(content="The user works at Initech", slot="employer")
    )
    await kit.memories.supersede("cy", second.id, NewMemory(content="The user works at Globex", slot="employer"))
    result = await kit.retrieval.retrieve("cy", "Where did I work before Globex?")
    found = {r.memory.content: r for r in result.memories}
    # "before Globex" is when Globex began: Initech held until then, Acme had ended long before.
    assert result.memories[0].memory.content == "The user works at Initech"
    assert found["The user works at Initech"].breakdown.signals.time == 1.0
    assert found["The user works at Acme"].breakdown.signals.time == 0.0


async def test_the_turn_a_current_fact_of_the_attribute_was_drawn_from_is_about_it_too() -> None:
    kit = Kit()
    said = "I'm a nurse at St Mary's, mostly night shifts on the cardiac ward."
    turn = NewMemory(content=said, type=MemoryType.EPISODIC, kind=MemoryKind.TURN, source_message_ids=("m1",))
    await kit.memories.create("di", turn)
    job = NewMemory(content="The user works as a nurse", slot="job", value="nurse", source_message_ids=("m1",))
    await kit.memories.create("di", job)
    old = msgspec.structs.replace(
        turn, content="I used to drive a bus, mostly night shifts.", source_message_ids=("m0",)
    )
    ended = await kit.memories.create("di", old)
    driver = await kit.memories.create(
        "di", NewMemory(content="The user works as a bus driver", slot="job", source_message_ids=("m0",))
    )
    await kit.memories.supersede("di", driver.id, NewMemory(content="The user works as a nurse", slot="job"))
    result = await kit.retrieval.retrieve("di", "Which ward do I work on?")
    signals = {r.memory.content: r.breakdown.signals for r in result.memories}
    # It said what the fact holds, and more of what was asked ("ward"): it is found by the attribute as the fact is.
    assert signals[said].graph == 1.0 and signals[said].keyword == 1.0
    # What was said of a value that has ended is not about the attribute as it holds now.
    assert signals.get(ended.content) is None or signals[ended.content].graph == 0.0
