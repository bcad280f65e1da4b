"""What a question is about, read in English: a person or pet of the user's, or an attribute of the user (where
they live, their work, how they get around...). The families are the domain's (`jyntrix_domain.attributes`).

- `kin_of`: the relations a question names from the user ("my husband", "my old dog", "our eldest daughter"), as
  the graph's predicates; a word between "my" and the relation ("old", "little", "former") is read past.
- `kin_words`: every word that names one of those relations ("dog", "puppy"): a memory using one is about them.
- `attributes_of`: the attributes of the user a question asks about, as slot families ("How do I get to work?"
  asks about `transport`, "What was my previous job?" about `work`). A phrase read for one attribute is not
  read again for another ("get to work" is how the user travels, not their job).
"""

from __future__ import annotations

import functools
import re

from jyntrix_adapters.english.kinship import REL_WORDS, kin_predicates

_MODIFIERS = re.compile(
    r"(?i)\b(my|our)\s+(?:(?:old|new|late|former|current|previous|first|second|little|big|baby|older|younger|"
    r"eldest|oldest|youngest|ex)\s+)+"
)


def kin_of(text: str) -> tuple[str, ...]:
    """The relations `text` names from the user, as the graph's predicates (module docstring)."""
    return kin_predicates(_MODIFIERS.sub(r"\1 ", text))


@functools.cache
def kin_words(relation: str) -> frozenset[str]:
    """The words naming `relation` (a graph predicate): "dog" -> {"dog", "puppy"}."""
    return frozenset(w for w in REL_WORDS.split("|") if kin_predicates(f"my {w}") == (relation,))


# In order: a phrase read for one attribute is taken out of the question before the next is looked for.
_ATTRIBUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?i)\b(?:get|gets|getting|go|goes|going|travel|travels|travelling|traveling|commute|commutes|"
            r"commuting)\s+(?:to\s+(?:work|school|the office|uni)|around)\b|\bcommut\w*|\bcars?\b|\bdriv\w*"
        ),
        "transport",
    ),
    (
        re.compile(
            r"(?i)\b(?:jobs?|work|works|working|worked|career|profession|occupation|employer|company|"
            r"job title|employed)\b"
        ),
        "work",
    ),
    (re.compile(r"(?i)\b(?:live|lives|living|lived|city|town|home|flat|apartment|address)\b"), "location"),
    (re.compile(r"(?i)\b(?:diet|vegan|vegetarian|eat|eats|eating)\b"), "diet"),
    (re.compile(r"(?i)\b(?:grow|grew|grown)\s+up\b|\bhometown\b"), "hometown"),
)


def attributes_of(text: str) -> tuple[str, ...]:
    """The attributes of the user `text` asks about, as slot families (module docstring)."""
    found = []
    for pattern, family in _ATTRIBUTES:
        text, hits = pattern.subn(" ", text)
        if hits:
            found.append(family)
    return tuple(found)
