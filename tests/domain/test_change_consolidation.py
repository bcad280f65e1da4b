"""Changes of mind carried through consolidation: what a later message ends is not current, and stays as
history with what it said; a plan that came about ends nothing. Wordings are the tests' own."""

from __future__ import annotations

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_domain.currency import ChangeConfig, fulfils
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.model import Memory, MemoryKind
from tests.domain.test_changes_of_mind import everything, standing, tell
from tests.domain.test_extraction import new_kit

TURNS = frozenset({MemoryKind.TURN})


async def told(*conversations: list[str], min_similarity: float | None = None) -> list[Memory]:
    """Every memory after the user says each conversation in turn, extraction running after each."""
    kit = new_kit()
    change = ChangeConfig(min_similarity=min_similarity) if min_similarity is not None else None
    extraction = ExtractionService(
        kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor(), change=change
    )
    for n, said in enumerate(conversations):
        await tell(kit, extraction, said, f"c{n}")
    return await everything(kit)


def by_slot(memories: list[Memory], slot: str) -> dict[str, bool]:
    return {m.content: m.current for m in memories if m.slot == slot}


async def test_leaving_an_employer_ends_the_role_said_with_it() -> None:
    memories = await told(["I work as a pharmacist at Boots."], ["Left Boots last month, I need a break."])
    assert by_slot(memories, "job") == {
        "The user works as a pharmacist at Boots": False,
        "The user no longer works as a pharmacist at Boots": True,
    }
    assert by_slot(memories, "employer")["The user works at Boots"] is False


async def test_a_sold_car_ends_how_the_user_got_around_and_the_history_names_it() -> None:
    memories = await told(["I drive a Tesla to work."], ["Sold the Tesla! I take the train now."])
    transport = by_slot(memories, "transport")
    assert transport["The user drives a Tesla to work"] is False
    assert transport["The user gets around by train"] is True
    assert not any(current for content, current in transport.items() if "Tesla" in content and current)


async def test_a_pet_that_died_is_not_current_and_keeps_its_breed() -> None:
    memories = await told(["I live with our dog Bran, a lazy old collie."], ["Bran died in March, I miss him."])
    dog = by_slot(memories, "relation:dog:bran")
    assert dog["The user has a dog named Bran (a lazy old collie)"] is False
    assert dog["The user no longer has a dog named Bran (a lazy old collie)"] is True


async def test_a_changed_plan_is_said_again_with_the_change_in_its_main_clause_and_keeps_its_time() -> None:
    memories = await told(
        ["We're planning a holiday in Greece in August, a week in Athens and Crete."],
        ["We're going to Portugal instead of Greece, it's cheaper."],
    )
    facts = standing(memories)
    assert facts["We're planning a holiday in Greece in August, a week in Athens and Crete"] is False
    # The details after the main clause were the old plan's: they are not said again of the new one.
    assert facts["We're planning a holiday in Portugal in August"] is True
    assert facts["We're going to Portugal instead of Greece, it's cheaper"] is True
    assert not any(current and "Athens" in content for content, current in facts.items())
    old, new = (next(m for m in memories if m.content.startswith(f"We're planning a holiday in {w}")) for w in "GP")
    assert old.occurred is not None and new.occurred == old.occurred
    assert "Athens" not in new.entities


async def test_a_favourite_given_up_for_another_named_one_is_said_again_with_it() -> None:
    memories = await told(
        ["My favourite podcast is Serial."], ["I don't listen to Serial anymore, I'm hooked on The Daily now."]
    )
    assert by_slot(memories, "favourite:podcast") == {
        "The user's favourite podcast is Serial": False,
        "The user's favourite podcast is The Daily": True,
    }


async def test_a_habit_ended_says_no_and_keeps_what_the_user_does_instead() -> None:
    memories = await told(["I go to the gym every morning."], ["I quit the gym and took up swimming instead."])
    habit = [m for m in memories if m.slot == "habit:go to the gym"]
    assert [(m.value, m.current) for m in sorted(habit, key=lambda m: m.created_at)] == [("yes", False), ("no", True)]
    assert "took up swimming instead" in next(m.content for m in habit if m.current)


async def test_a_plan_told_later_as_done_ends_nothing() -> None:
    plan = "We're relocating to Porto in June for a job in Porto."
    memories = await told([plan], ["We relocated to Porto in June for the job."], min_similarity=0.3)
    assert standing(memories, TURNS)[plan] is True


def test_a_plan_came_about_only_when_the_same_change_is_told_as_done_of_the_same_thing() -> None:
    plan = "We're moving to Lyon in spring."
    assert fulfils("We moved to Lyon last week.", plan, EnglishLanguage())
    assert not fulfils("We moved to Nice instead.", plan, EnglishLanguage())  # said against it
    assert not fulfils("We moved to Nice.", plan, EnglishLanguage())  # another place
    assert not fulfils("We'll move to Lyon soon.", plan, EnglishLanguage())  # still a plan
    assert not fulfils("I moved the desk to Lyon.", "I keep my desk in Paris.", EnglishLanguage())  # no plan before


async def test_a_turn_ends_when_its_statements_of_the_present_ended_though_a_past_event_it_told_holds() -> None:
    first = "I live in Lyon, I moved here in May 2021, and I work as a chef at Ducasse."
    memories = await told([first], ["Big change: I moved to Nice.", "I'm now a baker at Paul."])
    assert standing(memories, TURNS)[first] is False
    facts = standing(memories)
    assert facts["The user moved to Lyon in May 2021"] is True  # what happened then is still true
    assert facts["The user lives in Lyon"] is False and facts["The user works as a chef at Ducasse"] is False


async def test_a_turn_whose_only_facts_are_past_events_stays_current() -> None:
    said = "I ran my first marathon in October 2019."
    memories = await told([said], ["I moved to Nice."])
    assert standing(memories, TURNS)[said] is True
