"""The Language port: how the domain reads the words of one language (the adapter: `jyntrix_adapters.english`).

Its own module, re-exported by `jyntrix_domain.ports`, because it is the widest port: every cue the domain
decides with that is a word of some language is a member here, with what it means in any language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from jyntrix_domain.intents import Intent
from jyntrix_domain.tense import Tense


class Language(Protocol):
    """What a message does, read in one language, and how a fact that ended is said in it: the cues are words,
    so they live in an adapter, and the domain decides with the answers (what to remember, which memories a
    query asks for, what a changed fact becomes)."""

    def states_something(self, text: str) -> bool:
        """Whether any sentence of `text` states something: not only a question, a recall request, a one-off
        instruction or small talk ("I have a dog", "from now on answer in French"; not "what's my dog called?")."""

    def says_change(self, text: str) -> bool:
        """Whether a statement says that something changed ("no longer", "switched to", "instead", "I moved")."""

    def kin_of(self, text: str) -> tuple[str, ...]:
        """The relations a question names from the user ("my husband", "our eldest daughter"), as the graph's
        predicates ("husband", "daughter")."""

    def kin_words(self, relation: str) -> frozenset[str]:
        """Every word that names `relation`, a graph predicate: "dog" -> {"dog", "puppy"}."""

    def attributes_of(self, text: str) -> tuple[str, ...]:
        """The attributes of the user a question asks about, as slot families (`jyntrix_domain.attributes`):
        "How do I get to work?" -> ("transport",), "What was my previous job?" -> ("work",)."""

    def no_longer(self, fact: str) -> str:
        """A third-person fact said to hold no longer: "The user learns Dutch" -> "The user no longer learns
        Dutch" (how consolidation rewrites a fact that ended)."""

    @property
    def change_words(self) -> frozenset[str]:
        """The casefolded words that cue a change ("switched", "moved", "instead"): not what changed."""

    def asks_history(self, text: str) -> bool:
        """Whether a query asks about what was true before ("where did I live before?", "my previous job")."""

    def asks_about_assistant(self, text: str) -> bool:
        """Whether a query asks about what the assistant said ("the recipe you gave me", "what did you suggest")."""

    # ------------------------------------------------------------ a query's words (`jyntrix_domain.query`)

    def intent_of(self, text: str) -> Intent:
        """What a message does: asks to recall what was said, sets a rule for the future or gives an order,
        asks a question, or only converses."""

    def is_small_talk(self, text: str) -> bool:
        """Whether a message is only greetings and fillers ("hi", "ok thanks a lot"): it asks for no memory."""

    def is_personal(self, text: str) -> bool:
        """Whether a message refers to its speaker (in English "I", "my", "we"...)."""

    def asks_about_now(self, text: str) -> bool:
        """Whether a message asks about the present: it says so ("now", "these days", "still"), or it does not
        ask about the past ("where do I live?"; "where did I go?" asks about an event)."""

    def entities_of(self, text: str, skip: tuple[int, int] | None = None) -> tuple[str, ...]:
        """The names a message mentions (people, places, things), each once, in order; characters inside
        `skip` (its time phrase) are not read."""

    def keywords_of(self, text: str, entities: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The lowercase content words of a message, each once, in order: no function words, small talk or
        words of time and recall, which retrieval reads apart; plurals folded, save in the `entities`."""

    def tense_of(self, text: str) -> Tense | None:
        """Which way a text points in time: back (it tells of the past) or forward (a plan), or None when its
        words do not say. A bare time phrase in it ("in May") is read in that direction."""

    def index_terms(self, text: str) -> list[str]:
        """The terms a text is indexed and searched under, in order, repeats kept: its words casefolded, without
        the words too common to tell one text from another; what the keyword indexes store and search."""

    @property
    def common_words(self) -> frozenset[str]:
        """The casefolded words that name nothing (function words, small talk, question words, imperatives):
        a capitalised one is still no name."""

    # ------------------------------------------------------------ statements and facts

    def names_given(self, words: Iterable[str], texts: Iterable[str]) -> set[str]:
        """The casefolded names `texts` give what `words` name, by apposition: "our daughter, Ella", "my dog
        Rufus", "a cat called Miso" give {"ella", "rufus", "miso"} for the words daughter, dog and cat."""

    def names_in(self, text: str) -> list[str]:
        """The names a user's statement mentions, each once, in order: what a memory or summary of it links to."""

    @property
    def fact_words(self) -> frozenset[str]:
        """The casefolded words every third-person fact says ("the", "user", "is"): two statements of one
        fact are compared without them."""

    def planned(self, text: str) -> bool:
        """Whether a statement tells of a plan: in the future, or under way in the present ("we're moving in
        May")."""

    def says_contrary(self, text: str) -> bool:
        """Whether a statement says something against what it tells ("instead", "not", "never", "cancelled"),
        so it does not tell that a plan came about."""

    def stem(self, word: str) -> str:
        """A word casefolded without its inflection, so the forms of one verb compare equal ("moved",
        "moving")."""
