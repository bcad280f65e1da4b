"""What the offline responder may answer from, and how well each piece matches what was asked.

Two sources: the memories in the prompt (`ContextItem`, numbered and citable) and what the user said earlier
in this conversation or this request (`Prompt.messages`; the context leaves out the turn memories of messages
that are in the history, so without these an answer could not use what was said a moment ago).

Matching is on word terms: a light stem, irregular forms folded into one ("flight" and "flying" are "fly"),
and a few general English attribute groups in which any word names the attribute ("job" meets "works as",
"home" meets "lived in"). A statement said earlier also matches on the attributes the rules extractor finds
in it ("I'm a pharmacist" fills the slot `job`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

import msgspec

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.speech_acts import sentences, states_something
from jyntrix_adapters.english.stopwords import ANSWER_STOPWORDS
from jyntrix_domain.english_time_phrases import time_phrase_span
from jyntrix_domain.model import Period, Role
from jyntrix_domain.prompts import ContextItem, Prompt
from jyntrix_domain.terms import word_tokens

_QUESTION_TEXT = """what where who whom whose when why how which do does did is are was were can could will would
    should have has tell remind recall any"""
QUESTION_START = frozenset(_QUESTION_TEXT.split())

# Forms whose stems never meet: each is read as the word it stands for.
_FOLDED = {
    "flight": "fly",
    "flights": "fly",
    "flying": "fly",
    "flew": "fly",
    "flown": "fly",
    "born": "birth",
    "birthday": "birth",
    "married": "marry",
    "marriage": "marry",
    "wedding": "marry",
    "husband": "marry",
    "wife": "marry",
    "joined": "start",
    "join": "start",
    "began": "start",
    "begun": "start",
    "took": "start",
    "studied": "study",
    "studies": "study",
    "mum": "mother",
    "mom": "mother",
    "mummy": "mother",
    "dad": "father",
    "daddy": "father",
    "children": "child",
    "kids": "child",
    "kid": "child",
    "lived": "live",
    "living": "live",
    "went": "go",
    "gone": "go",
}

# General attribute words: a question naming the attribute (the head words, before "|") asks about any of
# its words; one naming a member ("dog") asks about that member only.
_ATTRIBUTE_TEXT = {
    # Not "office": "registry office", "post office", "box office" are places, not where one works.
    "job": "job work career profession occupation employ | employer company hospital",
    "home": "home live | city town based moved",
    "diet": "diet food eat | vegetarian vegan",
    "study": "study subject degree course | university college school",
    "instrument": "instrument | play piano guitar violin cello drum",
    "pet": "pet animal | dog cat kitten puppy tortoise turtle hamster rabbit parrot bird fish horse greyhound",
    "family": (
        "family relative | marry partner daughter son child mum mom mother dad father brother sister parent "
        "sibling grandparent grandmother grandfather aunt uncle cousin"
    ),
}
# Phrases that name an attribute with words that mean something else alone ("living").
_PHRASES = ((re.compile(r"(?i)\bfor a living\b"), "job"),)


def stem(word: str, *, fold: bool = True) -> str:
    """A light suffix stripper ("lives"/"lived" meet "live"), after folding the irregular forms (unless not
    `fold`) and ordinals ("fortieth" meets "forty")."""
    word = word.casefold().removesuffix("'s").strip("'")
    if fold:
        word = _FOLDED.get(word, word)
    if word.endswith("ieth") and len(word) > 6:
        return word[:-4] + "y"
    for suffix, keep in (("ies", 3), ("ing", 3), ("ed", 3), ("es", 4), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep and not word.endswith("ss"):
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


_GROUP_OF = {stem(w): name for name, text in _ATTRIBUTE_TEXT.items() for w in text.replace("|", " ").split()}
_HEAD_OF = {stem(w): name for name, text in _ATTRIBUTE_TEXT.items() for w in text.split("|")[0].split()}


def content_terms(text: str, *, fold: bool = True) -> set[str]:
    return {stem(w, fold=fold) for w in word_tokens(text.casefold()) if w not in ANSWER_STOPWORDS and len(w) > 1}


def question_terms(message: str) -> set[str]:
    """The terms a message is matched on; its time phrase's words only when nothing else is left.

    Retrieval has already kept the memories of the time a message names ("last week"), so those
    words would only match memories that happen to say "week".
    """
    for pattern, word in _PHRASES:
        message = pattern.sub(word, message)
    terms = content_terms(message)
    span = time_phrase_span(message)
    if span is None:
        return terms
    return content_terms(message[: span[0]] + " " + message[span[1] :]) or terms


_MINE = re.compile(r"(?i)\b(?:my|our)\s+(\w+(?:\s+\w+)?)")
# Someone else's: "Chloe's wedding", "his job", "their house"; "the user's" and "your" are the user's own.
_THEIRS = re.compile(r"\b(?:(?!user's\b)[A-Z]?[a-z]+'s|his|her|their)\s+(\w+)")


def owned_terms(message: str) -> set[str]:
    """The terms a question says are the user's own ("my wedding anniversary": wedding, anniversary)."""
    return {t for m in _MINE.finditer(message) for t in content_terms(m.group(1))}


def others_terms(content: str) -> set[str]:
    """The terms a piece says are someone else's ("Chloe's wedding", "his job")."""
    return {t for m in _THEIRS.finditer(content) for t in content_terms(m.group(1))}


def attributes(terms: Iterable[str]) -> set[str]:
    """The attribute groups the terms name, as heads or as members."""
    return {_GROUP_OF[t] for t in terms if t in _GROUP_OF}


def headed(terms: Iterable[str]) -> set[str]:
    """The attribute groups the terms name by a head word ("family", not "daughter")."""
    return {_HEAD_OF[t] for t in terms if t in _HEAD_OF}


def is_question(text: str) -> bool:
    words = word_tokens(text.casefold())
    return text.rstrip().endswith("?") or (bool(words) and words[0] in QUESTION_START)


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """One thing the answer may restate: a memory of the context (`ref`), or a sentence said earlier (no ref)."""

    content: str
    terms: frozenset[str]
    ref: int | None = None
    relevant: bool = False
    score: float = 0.0
    current: bool = True
    valid_until: datetime | None = None
    occurred: Period | None = None
    quoted: bool = False  # the user's own words (a turn said earlier), not a memory written about them

    def matches(self, terms: set[str]) -> int:
        """How many of `terms` this piece names: a term itself, or the attribute it belongs to."""
        groups = attributes(self.terms)
        return sum(1 for t in terms if t in self.terms or (t in _HEAD_OF and _HEAD_OF[t] in groups))


_EXTRACTOR = DeterministicExtractor()


def _slot_terms(sentence: str) -> set[str]:
    """The attributes the rules extractor finds in a statement ("I'm a pharmacist" fills `job`), and its
    facts' words ("The user works as a pharmacist")."""
    out: set[str] = set()
    for fact in _EXTRACTOR.extract_text(sentence):
        if fact.slot:
            out.add(stem(fact.slot.split(":", 1)[0]))
        out |= content_terms(fact.content)
    return out


def from_item(item: ContextItem) -> Evidence:
    return Evidence(
        content=item.content,
        terms=frozenset(content_terms(item.content)),
        ref=item.ref,
        relevant=item.relevant,
        score=item.score,
        current=item.current,
        valid_until=item.valid_until,
        occurred=item.occurred,
        quoted=item.role is Role.USER,
    )


def said_earlier(prompt: Prompt) -> list[Evidence]:
    """The statements the user made before the last message, sentence by sentence, newest first."""
    turns = [t for t in prompt.messages[:-1] if t.role is Role.USER]
    out: list[Evidence] = []
    for turn in reversed(turns):
        for sentence in sentences(turn.content):
            if states_something(sentence) and not is_question(sentence):
                terms = content_terms(sentence) | _slot_terms(sentence)
                out.append(Evidence(content=sentence, terms=frozenset(terms), quoted=True))
    return out


def shared_terms(a: str, b: str, min_length: int = 4) -> set[str]:
    """The words two texts share as written (no forms folded), of at least `min_length` letters: a note on a
    statement must be about the same thing, not only a related one."""
    return {t for t in content_terms(a, fold=False) & content_terms(b, fold=False) if len(t) >= min_length}


def best(found: Sequence[Evidence], count: int) -> list[Evidence]:
    """The `count` best by score, in the order of their reference numbers."""
    chosen = sorted(found, key=lambda e: (-e.score, e.ref or 0))[:count]
    return sorted(chosen, key=lambda e: e.ref or 0)
