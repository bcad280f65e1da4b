"""Which way a statement or question points in time: back (what happened) or forward (a plan).

A month or weekday named without "last" or "next" ("in May", "on Friday") is read in that
direction: "I went to Rome in May" is the last May, "we're going to Rome in May" the next one.
"""

from __future__ import annotations

import re

from jyntrix_adapters.english.stopwords import word_set
from jyntrix_domain.tense import Tense
from jyntrix_domain.terms import word_tokens

__all__ = ["IRREGULAR_PAST", "Tense", "planned", "tense_of"]


# Past forms that are not also present forms ("read", "put", "quit" are both, so they say nothing).
IRREGULAR_PAST = word_set(
    "went had saw met got took came made bought found left ate flew ran began wrote spoke told thought felt "
    "became brought caught chose drove drank fell forgot gave grew heard held kept knew lost paid put quit "
    "read rode sang sat sent slept sold spent stood swam taught understood woke won wore broke split hurt "
    "built dealt drew fed fought forgave hid hit hung led lent let meant rang rose shook shot shut sold stole "
    "struck swore threw tore"
)
_AMBIGUOUS_PAST = word_set("read put quit left lost felt")
_PAST_WORDS = (IRREGULAR_PAST - _AMBIGUOUS_PAST) | word_set(
    "was were did didn't wasn't weren't been happened ago yesterday"
)
# A plan, or a past plan ("was going to") that therefore points back.
_PAST_PLAN = re.compile(r"(?i)\b(?:was|were)\s+(?:going\s+to|gonna|planning)\b")
_PLAN = re.compile(
    r"(?i)\b(?:will|shall|won't|gonna|going\s+to|plan(?:s|ning)?\s+(?:to|on)|planning|intend(?:s|ing)?\s+to"
    r"|about\s+to|hope\s+to|looking\s+forward|can't\s+wait|upcoming|next)\b|\w'll\b"
    r"|\b(?:am|are|is|'m|'re)\s+(?:(?:i|we|you|he|she|they)\s+)?going\b"
)
# A regular past verb after its subject: "I visited", "we finally moved" (not "I'm excited").
_REGULAR_PAST = re.compile(
    r"(?i)\b(?:i|we|you|he|she|they)\s+(?:(?:just|also|finally|already|really|then|\w+ly)\s+)?[a-z]+ed\b"
)


def tense_of(text: str) -> Tense | None:
    """The direction `text` points in, or None when its words do not say.

    A plan ("will", "going to", "am I going", "planning", "next") points forward, unless it is itself in the past
    ("was going to"); past verbs ("went", "did", "was", "I visited") point back.
    """
    if _PAST_PLAN.search(text):
        return Tense.PAST
    if _PLAN.search(text):
        return Tense.FUTURE
    if _REGULAR_PAST.search(text) or any(w in _PAST_WORDS for w in word_tokens(text.casefold())):
        return Tense.PAST
    return None


# "we're moving to Amsterdam in January": a plan said in the present.
_UNDER_WAY = re.compile(r"(?i)\b(?:am|are|is|'m|'re)\s+(?:\w+ly\s+)?\w+ing\b")


def planned(text: str) -> bool:
    """Whether `text` tells of a plan: in the future, or under way in the present ("we're moving in May")."""
    return tense_of(text) is Tense.FUTURE or _UNDER_WAY.search(text) is not None
