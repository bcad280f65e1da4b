"""How the consolidator says that a fact holds no longer: "The user learns Dutch" -> "The user no longer
learns Dutch". The fact is one of the user's memories, written in the third person about "the user"."""

from __future__ import annotations

import re

BE_OR_HAVE = re.compile(
    r"^(the user(?:'s [\w' -]+?)?)\s+(is|are|was|were|has|have|can|will)\s+(?!no longer\b)(.*)$", re.I
)
SUBJECT_VERB = re.compile(r"^(the user(?:'s [\w' -]+?)?)\s+(doesn't|does not|no longer)?\s*(\w+)\b(.*)$", re.I)


def no_longer(fact: str) -> str:
    """A third-person fact said to hold no longer: "The user is training for X" -> "The user is no longer
    training for X"; "The user learns Dutch" -> "The user no longer learns Dutch"."""
    text = fact.strip().rstrip(".")
    m = BE_OR_HAVE.match(text)
    if m is not None:
        subject, verb, rest = m.groups()
        if verb.lower() in ("has", "have"):
            return f"{subject} no longer {verb} {rest}"
        return f"{subject} {verb} no longer {rest}"
    m = SUBJECT_VERB.match(text)
    if m is not None and m.group(2) is None:
        subject, _, verb, rest = m.groups()
        return f"{subject} no longer {verb}{rest}"
    return f"No longer true: {text}"
