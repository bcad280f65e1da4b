"""The deterministic extractor reads changes of mind, attribute by attribute, in wordings of its own.

Each test states what a rule must read from ordinary chat (never the living stories' sentences): the new value
of an attribute as its own current fact, and what a statement ends (`Ending`), for consolidation to supersede.
"""

from __future__ import annotations

import pytest

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.speech_acts import says_change
from jyntrix_domain.fact_candidates import Ending, FactCandidate


def read(text: str) -> list[FactCandidate]:
    return DeterministicExtractor().extract_text(text)


def slots(text: str) -> dict[str | None, tuple[str, str | None]]:
    """What a message says, by slot: (content, value)."""
    return {c.slot: (c.content, c.value) for c in read(text) if c.slot}


def ended(text: str) -> list[tuple[str, str | None]]:
    """What a message ends: (the thing, its replacement)."""
    return [(e.mention, e.replacement) for c in read(text) for e in c.ends]


# ------------------------------------------------------------------------------------------------------ work


def test_a_new_job_gives_the_role_with_its_employer_and_the_employer_apart() -> None:
    said = slots("Just joined Klarna as a data scientist.")
    assert said["job"] == ("The user works as a data scientist at Klarna", "data scientist")
    assert said["employer"] == ("The user works at Klarna", "Klarna")


def test_an_offer_taken_and_a_start_date_name_the_employer_and_the_role_said_apart() -> None:
    said = slots("I accepted a job at Ikea, I start in March as a store manager.")
    assert said["employer"][1] == "Ikea"
    # The role is worded with the employer the message named, so that leaving it ends the role too.
    assert said["job"] == ("The user works as a store manager at Ikea", "store manager")


def test_a_role_at_an_organisation_introduced_by_what_it_is() -> None:
    said = slots("These days I'm the head chef at a bistro called Le Petit Four.")
    assert said["job"][1] == "head chef"
    assert said["employer"][1] == "Le Petit Four"


def test_leaving_an_employer_without_saying_i_ends_it() -> None:
    [candidate] = read("Quit Acme in May, best decision ever.")
    assert candidate.content == "The user quit Acme"
    assert [(e.mention, e.replacement) for e in candidate.ends] == [("Acme", None)]


def test_retirement_is_the_job_now_and_keeps_what_the_user_did() -> None:
    assert slots("I retired from teaching in 2020.")["job"] == ("The user retired from teaching", "retired")
    content, value = slots("Before I retired I was a pilot.")["job"]
    assert value == "retired" and "pilot" in content
    assert slots("I'm retired now.")["job"][1] == "retired"
    assert "job" not in slots("I retired the old laptop.")


# ------------------------------------------------------------------------------------- getting around, home


def test_the_vehicle_is_kept_with_how_the_user_gets_around() -> None:
    assert slots("I drive a Tesla to work.")["transport"] == ("The user drives a Tesla to work", "by car")
    assert ended("I sold the Tesla last week.") == [("Tesla", None)]


def test_renting_a_room_or_a_flat_somewhere_is_where_the_user_lives() -> None:
    assert slots("We're renting a little flat in Bristol these days.")["location"][1] == "Bristol"
    assert slots("I'm sharing a house in Glasgow now with two friends.")["location"][1] == "Glasgow"


def test_a_place_ends_where_a_new_clause_begins_after_a_comma() -> None:
    assert slots("We moved into a new apartment in Lisbon, Maria helps with the boxes.")["location"][1] == "Lisbon"
    assert slots("I live in Portland, Oregon.")["location"][1] == "Portland, Oregon"


# ------------------------------------------------------------------------------------------ pets and people


def test_a_pet_keeps_what_the_user_says_it_is() -> None:
    said = slots("I share the flat with our cat Whiskers, a grumpy old tabby.")
    assert said["relation:cat:whiskers"][0] == "The user has a cat named Whiskers (a grumpy old tabby)"
    assert slots("We adopted a collie puppy named Bran.")["relation:dog:bran"][0] == (
        "The user has a dog named Bran (a collie)"
    )
    assert slots("Got a kitten too, a ragdoll called Mochi.") == {}  # no subject of its own: nothing read


def test_a_pet_told_by_its_breed_alone_is_kept_as_its_kind() -> None:
    said = slots("We've got a whippet called Biscuit, she sleeps all day.")
    assert said["relation:dog:biscuit"] == ("The user has a dog named Biscuit (a whippet)", "Biscuit")
    assert slots("I have a siamese named Luna.")["relation:cat:luna"][0] == "The user has a cat named Luna (a siamese)"


def test_a_pet_that_died_ends() -> None:
    assert ended("Whiskers passed away last night, we're heartbroken.") == [("Whiskers", None)]
    assert ended("We lost our dog Bran in the winter.") == [("Bran", None)]


def test_a_relation_named_in_the_sentence_that_ends_it_is_not_stated_again() -> None:
    assert [(c.slot, c.ends) for c in read("My girlfriend Lea and I split up in May.")] == [
        (None, (Ending(mention="Lea"),))
    ]
    assert [c.slot for c in read("Our old cat Tigger died last week.")] == [None]


def test_a_person_named_after_a_comma_keeps_the_age_said_of_them() -> None:
    said = slots("My wife Ana is a teacher and we have a son, Leo, he's 7.")
    assert said["relation:son:leo"] == ("The user's son is named Leo and is 7 years old", "Leo")
    assert said["relation:wife"][1] == "Ana"


def test_news_of_someone_in_the_users_life_is_kept_where_it_happened() -> None:
    [news] = read("We're moving to Oslo. Ana got a job at the university there.")[-1:]
    assert news.content == "Ana got a job at the university in Oslo"
    assert [c.content for c in read("My brother landed a new job in Cardiff.")] == [
        "The user's brother landed a new job in Cardiff"
    ]
    assert [c.content for c in read("Leo starts at a Montessori nursery, he can't wait.")] == [
        "Leo starts at a Montessori nursery, he can't wait"
    ]


def test_an_engagement_names_the_partner() -> None:
    assert slots("Sam and I got engaged!")["relation:fiance"][1] == "Sam"
    said = slots("I met a guy, Theo, at a climbing gym, and we got engaged in June.")
    assert said["relation:fiance"] == ("The user is engaged to Theo, the user's partner", "Theo")
    said = slots("I met someone, Ana, she's a nurse, and we just got engaged.")
    assert said["relation:fiance"][0] == "The user is engaged to Ana (a nurse), the user's partner"


# ------------------------------------------------------------------------------- habits, diets and the rest


def test_a_diet_taken_up_is_the_diet_now() -> None:
    assert slots("I turned vegetarian last spring.")["diet"][1] == "vegetarian"
    assert slots("I've been vegan for ages.")["diet"][1] == "vegan"


def test_how_much_is_not_part_of_a_habit() -> None:
    assert slots("I eat way too much chocolate.")["habit:eat chocolate"][1] == "yes"


def test_an_activity_too_long_for_a_slot_is_kept_and_ended_by_what_it_names() -> None:
    [activity] = read("I play the drums in a punk band at weekends.")
    assert activity.slot is None and activity.content == "The user plays the drums in a punk band at weekends"
    assert ("band", None) in ended("I stopped playing in the band, no time.")


def test_a_tool_per_purpose_and_moving_to_another_one() -> None:
    assert slots("I track my budget in YNAB.")["tool:budget"] == ("The user keeps their budget in YNAB", "YNAB")
    assert slots("I moved my budget over to Excel.")["tool:budget"][1] == "Excel"
    assert slots("I use Todoist for my tasks.")["tool:tasks"][1] == "Todoist"


def test_a_goal_is_one_current_value() -> None:
    assert slots("My goal for next year is to learn to surf.")["goal:goal"][1] == "to learn to surf"
    assert slots("My new goal is to finish a triathlon.")["goal:goal"][1] == "to finish a triathlon"
    assert ("triathlon", None) in ended("I've given up on the triathlon.")


def test_a_favourite_said_to_be_new_and_what_the_user_no_longer_follows() -> None:
    assert slots("My favourite show is now Severance.")["favourite:show"][1] == "Severance"
    assert ended("I don't watch Succession anymore.") == [("Succession", None)]
    assert slots("I'm obsessed with bouldering now.")["preference:bouldering"][1] == "positive"


def test_what_is_dropped_for_something_instead_keeps_both() -> None:
    [candidate] = read("I dropped yoga and took up pilates instead.")
    assert [(e.mention, e.instead) for e in candidate.ends] == [
        ("yoga", "The user dropped yoga and took up pilates instead")
    ]


def test_switching_to_something_without_saying_from_what_is_kept() -> None:
    said = {c.content: (c.slot, c.value) for c in read("I switched to oat milk last month.")}
    # The statement as said, and, for what one drinks or eats, the habit it now is.
    assert said == {
        "The user switched to oat milk last month": (None, None),
        "The user drinks oat milk": ("habit:drink oat milk", "yes"),
    }
    assert not slots("I moved to Oslo.").get(None)


def test_what_the_user_has_taken_to_now_replaces_the_same_kind_of_thing_the_message_ends() -> None:
    assert ended("I don't watch The Crown anymore, I'm hooked on Slow Horses now.") == [("The Crown", "Slow Horses")]
    # A thing of another kind (a named show, a plain noun) is no replacement: the ending stays an ending.
    assert ended("I don't watch The Crown anymore, I'm obsessed with gardening now.") == [("The Crown", None)]


def test_a_weekly_time_is_how_often_not_one_day() -> None:
    assert slots("I've started swimming on Sunday mornings.")["habit:swim"] == (
        "The user swims on Sunday mornings",
        "yes",
    )
    assert "habit:swim" not in slots("I'm swimming on Sunday.")


def test_corrections_are_cues_of_change() -> None:
    assert says_change("Actually we went with blue for the bathroom.")
    assert says_change("Change of plan: the party is at Sam's.")
    assert not says_change("We painted the bathroom blue.")


# --------------------------------------------------------------------------------- more wordings, one a line

SAID_NOW = [
    ("I handed in my notice at Lidl, starting at Aldi next week as an area manager.", "job", "area manager"),
    ("I handed in my notice at Lidl, starting at Aldi next week as an area manager.", "employer", "Aldi"),
    ("I got promoted to team lead.", "job", "team lead"),
    ("I'm working at Deliveroo now as a courier.", "job", "courier"),
    ("I moved back to Cork last month.", "location", "Cork"),
    ("I started learning Spanish on Busuu.", "learns:spanish", "Busuu"),
    ("I now use Linear for my tasks instead of Jira.", "tool:tasks", "Linear"),
    ("My new favourite band is Wet Leg.", "favourite:band", "Wet Leg"),
]


@pytest.mark.parametrize(("text", "slot", "value"), SAID_NOW)
def test_what_holds_now_in_other_wordings(text: str, slot: str, value: str) -> None:
    assert slots(text)[slot][1] == value


SAID_ENDED = [
    ("I handed in my notice at Lidl, starting at Aldi next week.", ("Lidl", None)),
    ("I was laid off from Meta in March.", ("Meta", None)),
    ("I'm not going to the gym anymore.", ("gym", None)),
    ("I'm no longer with Mark.", ("Mark", None)),
    ("I now use Linear for my tasks instead of Jira.", ("Jira", "Linear")),
]


@pytest.mark.parametrize(("text", "ending"), SAID_ENDED)
def test_what_ends_in_other_wordings(text: str, ending: tuple[str, str | None]) -> None:
    assert ended(text) == [ending]
