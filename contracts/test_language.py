"""Language contract: each Language adapter, given a phrasebook of its own language (what its cues look like),
answers what the domain decides with as the port's docstrings say (jyntrix_domain/language_port.py).

The phrases are the adapter's; what is asserted of them is the port's, the same for every language.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_domain.intents import Intent
from jyntrix_domain.ports import Language
from jyntrix_domain.tense import Tense


class Phrasebook(NamedTuple):
    """Sentences of one language, each an example of what a port member reads."""

    statement: str  # tells something of the speaker
    names: tuple[str, ...]  # the names `statement` mentions, in order
    question: str  # only asks, of the present
    past_event_question: str  # asks about an event in the past
    recall: str  # asks what was said
    rule: str  # an instruction meant to last
    small_talk: str
    impersonal: str  # says nothing of the speaker
    history: str  # asks what held before
    before_event: str  # asks what was so when something happened: not about before
    about_assistant: str  # asks what the assistant said
    change: str  # says something changed
    plan: str
    plan_under_way: str  # a plan said in the present
    past: str
    timeless: str  # whose words say no time
    contrary: str  # says something against what it tells
    verb_forms: tuple[str, ...]  # forms of one verb
    fact: str  # a third-person fact
    relation_question: tuple[str, str]  # a question naming a relation of the user, and that relation
    index_terms: tuple[str, tuple[str, ...]]  # a text, and its terms: casefolded, in order, repeats kept
    named: tuple[str, str, str]  # a word for something, a text that gives it a name, and that name


ENGLISH = Phrasebook(
    statement="I adopted a greyhound called Pepper and we live in Lisbon with Anna.",
    names=("Pepper", "Lisbon", "Anna"),
    question="Where do I live?",
    past_event_question="When did I move to Berlin?",
    recall="Do you remember what I said about my sister?",
    rule="From now on, answer in French.",
    small_talk="ok thanks a lot",
    impersonal="The weather is nice.",
    history="Where did I live before Amsterdam?",
    before_event="What did I do before I retired?",
    about_assistant="What was the recipe you gave me?",
    change="I no longer work at Zalando.",
    plan="We will fly to Rome next spring.",
    plan_under_way="We're moving to Amsterdam in January.",
    past="We flew to Rome in May.",
    timeless="Dogs are loyal.",
    contrary="We moved to Nice instead.",
    verb_forms=("moved", "moving", "moves"),
    fact="The user learns Dutch",
    relation_question=("What does my husband do?", "husband"),
    index_terms=("The dog and the DOG of Anna", ("dog", "dog", "anna")),
    named=("cat", "We adopted a cat called Miso last spring.", "Miso"),
)


@pytest.fixture(params=[pytest.param((EnglishLanguage, ENGLISH), id="english")])
def spoken(request: pytest.FixtureRequest) -> tuple[Language, Phrasebook]:
    """Each Language adapter with its phrasebook."""
    adapter, phrases = request.param
    return adapter(), phrases


# What each member gives for phrases of the phrasebook, in any language: member -> (phrase, answer), ...
READS: dict[str, tuple[tuple[str, object], ...]] = {
    "intent_of": (
        ("statement", Intent.CONVERSATION), ("question", Intent.QUESTION), ("recall", Intent.RECALL),
        ("rule", Intent.COMMAND),
    ),
    "states_something": (("statement", True), ("rule", True), ("question", False), ("small_talk", False)),
    "is_small_talk": (("small_talk", True), ("statement", False)),
    "is_personal": (("statement", True), ("impersonal", False)),
    "asks_about_now": (("question", True), ("past_event_question", False)),
    "asks_history": (("history", True), ("before_event", False), ("question", False)),
    "asks_about_assistant": (("about_assistant", True), ("question", False)),
    "tense_of": (("plan", Tense.FUTURE), ("past", Tense.PAST), ("timeless", None)),
    "planned": (("plan", True), ("plan_under_way", True), ("past", False)),
    "says_change": (("change", True), ("question", False)),
    "says_contrary": (("contrary", True), ("past", False)),
}  # fmt: skip
READINGS = [(member, phrase, answer) for member, reads in READS.items() for phrase, answer in reads]


@pytest.mark.parametrize(("member", "phrase", "answer"), READINGS)
def test_each_member_reads_its_cue(
    spoken: tuple[Language, Phrasebook], member: str, phrase: str, answer: object
) -> None:
    language, p = spoken
    assert getattr(language, member)(getattr(p, phrase)) == answer


def test_change_words_are_casefolded(spoken: tuple[Language, Phrasebook]) -> None:
    language, _ = spoken
    assert language.change_words
    assert all(w == w.casefold() for w in language.change_words)


def test_the_forms_of_one_verb_share_a_stem(spoken: tuple[Language, Phrasebook]) -> None:
    language, p = spoken
    stems = {language.stem(form) for form in p.verb_forms}
    assert len(stems) == 1
    assert {language.stem(form.upper()) for form in p.verb_forms} == stems


def test_names_are_found_once_and_in_order(spoken: tuple[Language, Phrasebook]) -> None:
    language, p = spoken
    assert language.names_in(p.statement) == list(p.names)
    assert language.entities_of(p.statement) == p.names
    assert language.names_in(p.small_talk) == []


def test_what_is_skipped_names_nothing(spoken: tuple[Language, Phrasebook]) -> None:
    language, p = spoken
    first = p.names[0]
    start = p.statement.index(first)
    assert first not in language.entities_of(p.statement, skip=(start, start + len(first)))


def test_keywords_are_content_words_each_once(spoken: tuple[Language, Phrasebook]) -> None:
    language, p = spoken
    keywords = language.keywords_of(p.question)
    assert keywords
    assert len(set(keywords)) == len(keywords)
    assert not set(keywords) & language.common_words
    assert language.keywords_of(p.small_talk) == ()


def test_word_lists_are_casefolded_and_leave_content_alone(spoken: tuple[Language, Phrasebook]) -> None:
    language, p = spoken
    for words in (language.common_words, language.fact_words):
        assert words
        assert all(w == w.casefold() for w in words)
    fact_words = {w.casefold() for w in p.fact.split()}
    assert fact_words & language.fact_words  # what every fact says
    assert fact_words - language.fact_words  # and what this one says


def test_a_relation_a_question_names(spoken: tuple[Language, Phrasebook]) -> None:
    language, p = spoken
    question, relation = p.relation_question
    assert language.kin_of(question) == (relation,)
    assert relation in language.kin_words(relation)


def test_a_fact_said_to_hold_no_longer_keeps_what_it_said(spoken: tuple[Language, Phrasebook]) -> None:
    language, p = spoken
    ended = language.no_longer(p.fact)
    assert ended != p.fact
    assert p.fact.split()[-1] in ended


def test_index_terms_are_the_words_that_tell_texts_apart_in_order(spoken: tuple[Language, Phrasebook]) -> None:
    language, p = spoken
    text, terms = p.index_terms
    assert language.index_terms(text) == list(terms)
    assert language.index_terms(text.upper()) == list(terms)
    assert language.index_terms(p.small_talk) != p.small_talk.split()  # its common words are not terms
    assert language.index_terms("") == []


def test_the_name_a_text_gives_what_a_word_names(spoken: tuple[Language, Phrasebook]) -> None:
    language, p = spoken
    word, text, name = p.named
    assert language.names_given([word], [text]) == {name.casefold()}
    assert language.names_given([word], [p.timeless, text]) == {name.casefold()}
    assert language.names_given([], [text]) == set()
    assert language.names_given([word], [p.timeless]) == set()
