"""The words for the people and pets in a user's life, and the relation each names as a graph predicate.

The extraction rules read them in statements ("my sister Anna"); the Language port (`subjects`) in questions
("what is my husband's name?").
"""

from __future__ import annotations

import re

SINGLE_RELATIONS = {
    "wife": "wife",
    "husband": "husband",
    "partner": "partner",
    "spouse": "spouse",
    "girlfriend": "girlfriend",
    "boyfriend": "boyfriend",
    "fiance": "fiance",
    "fiancé": "fiance",
    "fiancee": "fiance",
    "fiancée": "fiance",
    "boss": "boss",
    "manager": "manager",
    "mother": "mother",
    "mom": "mother",
    "mum": "mother",
    "father": "father",
    "dad": "father",
}
MULTI_RELATIONS = {
    "sister": "sister",
    "brother": "brother",
    "son": "son",
    "daughter": "daughter",
    "friend": "friend",
    "best friend": "best friend",
    "colleague": "colleague",
    "coworker": "colleague",
    "cousin": "cousin",
    "aunt": "aunt",
    "uncle": "uncle",
    "grandmother": "grandmother",
    "grandma": "grandmother",
    "grandfather": "grandfather",
    "grandpa": "grandfather",
    "granddaughter": "granddaughter",
    "grandson": "grandson",
    "grandchild": "grandchild",
    "stepdaughter": "stepdaughter",
    "stepson": "stepson",
    "niece": "niece",
    "nephew": "nephew",
    "roommate": "roommate",
    "dog": "dog",
    "cat": "cat",
    "puppy": "dog",
    "kitten": "cat",
    "horse": "horse",
    "rabbit": "rabbit",
    "parrot": "parrot",
}
REL_WORDS = "|".join(sorted((*SINGLE_RELATIONS, *MULTI_RELATIONS), key=len, reverse=True))


_KIN = re.compile(rf"(?i)\b(?:my|our)\s+({REL_WORDS})(?:'s)?\b")


def kin_predicates(text: str) -> tuple[str, ...]:
    """The relations a query names from the user ("my husband", "our daughter's"), as the graph's predicates."""
    return tuple(dict.fromkeys(canonical_relation(m.group(1)) for m in _KIN.finditer(text)))


def canonical_relation(word: str) -> str:
    """The graph predicate a relation word names: "mum" -> "mother"."""
    word = " ".join(word.lower().split())
    return SINGLE_RELATIONS.get(word) or MULTI_RELATIONS[word]
