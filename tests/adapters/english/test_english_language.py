"""The English Language adapter's members the domain gained with issue 22: "before" read once for both the
domain and the offline responder, a query's intent and cues, plans, what is said against a change, stems."""

from __future__ import annotations

import pytest

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.english.offline.evidence import question_terms
from jyntrix_adapters.english.offline.language_model import asks_before, before_anchor
from jyntrix_adapters.english.speech_acts import Before, befores
from jyntrix_domain.intents import Intent

ENGLISH = EnglishLanguage()


@pytest.mark.parametrize(
    ("question", "read"),
    [
        ("Where did I live before Amsterdam?", (Before(anchor="Amsterdam", event=False, own=False),)),
        (
            "What job did I have before I became a nurse?",
            (Before(anchor="I became a nurse", event=True, own=True),),
        ),
        ("What did I plan before my fortieth birthday?", (Before("my fortieth birthday", event=False, own=False),)),
        ("Where did I work before?", (Before(anchor=None, event=False, own=False),)),
        ("Beforehand, where was I?", ()),
        (
            "Before I moved, and before Lisbon, where was I",
            (
                Before("I moved, and before Lisbon, where was I", True, True),
                Before("Lisbon, where was I", False, False),
            ),
        ),
    ],
)
def test_each_before_is_read_once_with_what_follows_it(question: str, read: tuple[Before, ...]) -> None:
    assert befores(question) == read


@pytest.mark.parametrize(
    "question",
    [
        "Where did I live before Amsterdam?",
        "What job did I have before I became a nurse?",
        "Where did I work before?",
        "What did I do before I retired?",
        "Which city was I in before moving to Berlin?",
        "What is my job?",
    ],
)
def test_the_domain_and_the_offline_responder_read_the_same_before(question: str) -> None:
    read = befores(question)
    anchor = next((b.anchor for b in read if b.anchor is not None), None)
    assert before_anchor(question) == (question_terms(anchor) if anchor else set())
    # A question the responder answers with what held before is one the domain asks history of, save the
    # speaker's own change ("before I became a nurse"), which asks what held until then.
    if asks_before(question) and not any(b.own for b in read):
        assert ENGLISH.asks_history(question)


def test_before_an_event_asks_what_was_so_then_not_what_held_before() -> None:
    assert ENGLISH.asks_history("Where did I live before Amsterdam?")
    assert not ENGLISH.asks_history("What did I do before I retired?")
    assert ENGLISH.asks_history("What did I do before I retired, and my previous job?")


# The English cues the domain's new port members read: member -> (text, answer), ...
READS: dict[str, tuple[tuple[str, object], ...]] = {
    "intent_of": (
        ("do you remember my dog?", Intent.RECALL), ("please remember that I'm vegan", Intent.COMMAND),
        ("don't call me Bob", Intent.COMMAND), ("tell me about my trip", Intent.QUESTION),
        ("I wonder where I left my keys", Intent.QUESTION), ("I had a great day", Intent.CONVERSATION),
    ),
    # At most six words of greetings and fillers.
    "is_small_talk": (("hi", True), ("hi hi hi hi hi hi hi", False), ("", False)),
    "is_personal": (("what's our plan?", True), ("what's the plan?", False)),
    # Now said, or not past.
    "asks_about_now": (("Where did I live these days?", True), ("Where do I live?", True), ("Where did I go?", False)),
    # Under way, or a past plan, which points back.
    "planned": (
        ("I'm slowly packing for Rome", True), ("I was going to move to Rome", False), ("I live in Rome", False),
    ),
    "says_contrary": (("We cancelled the move", True), ("we didn't move after all", True), ("We moved to Nice", False)),
}  # fmt: skip
READINGS = [(member, text, answer) for member, reads in READS.items() for text, answer in reads]


@pytest.mark.parametrize(("member", "text", "answer"), READINGS)
def test_what_english_says(member: str, text: str, answer: object) -> None:
    assert getattr(ENGLISH, member)(text) == answer


def test_stems_fold_inflections_only() -> None:
    assert ENGLISH.stem("Switched") == ENGLISH.stem("switching") == "switch"
    assert ENGLISH.stem("quit") == "quit"


def test_names_in_a_statement_and_entities_of_a_query_differ_at_the_start_of_a_sentence() -> None:
    # A statement's capitalised opener that is no common word is a name; a query's lone opener is not.
    assert ENGLISH.names_in("Anna called me on Monday") == ["Anna"]
    assert ENGLISH.entities_of("Anna called me on Monday") == ()
    assert ENGLISH.entities_of("Does Anna live in New York?") == ("Anna", "New York")


def test_common_and_fact_words() -> None:
    assert {"the", "what", "remember", "hi"} <= ENGLISH.common_words
    assert "pepper" not in ENGLISH.common_words
    assert {"the", "user", "user's"} <= ENGLISH.fact_words
