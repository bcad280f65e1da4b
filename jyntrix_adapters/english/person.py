"""Turning who a sentence speaks of: the user's "I" into "the user" for memories, memories into "you".

Memories speak about the user in the third person ("The user lives in Lisbon"); the user speaks in
the first ("I live in Lisbon"), and an answer speaks to them in the second ("You live in Lisbon").
"""

from __future__ import annotations

import re

from jyntrix_adapters.english.endings import BE_OR_HAVE, SUBJECT_VERB
from jyntrix_adapters.english.stopwords import word_set
from jyntrix_adapters.english.tense import IRREGULAR_PAST
from jyntrix_domain.terms import WORD_TOKEN

_AUX = word_set(
    "will would can could should might must did had was may shall used can't won't didn't couldn't "
    "wouldn't shouldn't wasn't"
)
_IRREGULAR_PRESENT = {"have": "has", "do": "does", "go": "goes", "don't": "doesn't", "am": "is", "'m": "is"}
_ADVERBS = word_set(
    "really also usually often never always still just only sometimes actually currently now recently "
    "finally absolutely totally truly definitely"
)


def conjugate(verb: str) -> str:
    """The verb as "the user" takes it: "love" -> "loves", "fly" -> "flies"; past forms unchanged."""
    low = verb.lower()
    if low in _IRREGULAR_PRESENT:
        return _IRREGULAR_PRESENT[low]
    if low in _AUX or low in IRREGULAR_PAST or low.endswith("ed") or not low.isalpha():
        return verb
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


_FIRST_PERSON = re.compile(
    r"\b(?:I'm|I am|I've|I have|I'll|I'd|I was|I)\b(?:\s+((?:[a-z]+\s+)?)([a-z']+))?|\b(?:my|mine|me|myself)\b",
    re.IGNORECASE,
)
_SUBJECT_FORMS = (
    ("i'm", "the user is"),
    ("i am", "the user is"),
    ("i've", "the user has"),
    ("i have", "the user has"),
    ("i'll", "the user will"),
    ("i'd", "the user would"),
    ("i was", "the user was"),
)


_POSSESSIVE = re.compile(r"\b(?:my|mine|me)\b", re.IGNORECASE)


def third_person(text: str) -> str:
    """Rewrite a first-person statement about the user in the third person ("I love X" -> "The user loves X")."""

    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        head = word.split()[0].lower() if word.split() else word.lower()
        if head in ("my", "mine"):
            return "the user's"
        if head == "me":
            return "the user"
        if head == "myself":
            return "themselves"
        low = word.lower()
        for prefix, repl in _SUBJECT_FORMS:
            if low.startswith(prefix) and (len(low) == len(prefix) or not low[len(prefix)].isalpha()):
                return repl + word[len(prefix) :]
        adverb, verb = m.group(1) or "", m.group(2) or ""
        if not verb:
            return "the user"
        if adverb.strip().lower() not in _ADVERBS and adverb:
            # "I <not an adverb> <word>": the first word is the verb.
            first = adverb.strip()
            return f"the user {conjugate(first)} {verb}"
        return f"the user {adverb}{conjugate(verb)}"

    out = _FIRST_PERSON.sub(swap, text.strip())
    # "I sold my car": the verb group took "my" as the verb; what is left of the first person goes now.
    out = _POSSESSIVE.sub(lambda m: "the user's" if m.group(0).lower() in ("my", "mine") else "the user", out)
    out = out.rstrip(" .!")
    return out[:1].upper() + out[1:] if out else out


_SECOND_PERSON = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "am": "are", "i'm": "you're",
    "i've": "you've", "i'll": "you'll", "i'd": "you'd",
    # A household speaks for the user too ("our dog", "we're planning").
    "we": "you", "us": "you", "our": "your", "ours": "yours", "we're": "you're", "we've": "you've",
}  # fmt: skip
_I_WAS = re.compile(r"\bI was\b")


def restate(text: str) -> str:
    """'My name is Ada.' -> 'Your name is Ada' (first person turned to second person)."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        swapped = _SECOND_PERSON.get(word.casefold())
        if swapped is None:
            return word
        # "I" and its contractions are capitalised anywhere; what replaces them only at the start.
        capital = word[0].isupper() and (not word.startswith("I") or match.start() == 0)
        return swapped.capitalize() if capital else swapped

    text = _I_WAS.sub(lambda m: "You were" if m.start() == 0 else "you were", text.strip())
    return WORD_TOKEN.sub(swap, text).rstrip(".!")


# "the user's" anywhere; "the user <verb>" only where a sentence starts, since elsewhere
# "the user" may be an ordinary noun phrase ("the user group").
_ABOUT_USER = re.compile(r"\bthe user's|(?:^|(?<=[.!?;]\s))the user\s+(\w+n't|\w+)", re.IGNORECASE)
# "Daniel and the user got married", "lives with the user": the user as one of several, or as an object.
# Only before a verb or where a clause ends: "the user group" is a noun phrase.
_USER_WITH_OTHERS = re.compile(
    r"\b(and|with)\s+the user\b(?=\s+(?:got|get|are|were|have|had|met|went|[a-z]+ed)\b|\s*(?:[,.;!?]|$))",
    re.IGNORECASE,
)
_YOU_FORMS = {
    "is": "are", "was": "were", "has": "have", "does": "do",
    "isn't": "aren't", "wasn't": "weren't", "hasn't": "haven't", "doesn't": "don't",
}  # fmt: skip


def _base_form(verb: str) -> str:
    """'lives' -> 'live', 'studies' -> 'study', 'watches' -> 'watch': the verb as 'you' takes it."""
    low = verb.casefold()
    if low in _YOU_FORMS:
        return _YOU_FORMS[low]
    if low.endswith("ies") and len(low) > 4:
        return verb[:-3] + "y"
    if low.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return verb[:-2]
    if low.endswith("s") and not low.endswith("ss"):
        return verb[:-1]
    return verb


def addressed(content: str) -> str:
    """'The user's sister lives in Lisbon' -> 'Your sister lives in Lisbon'.

    Memories speak about the user; an answer speaks to them.
    """

    def swap(match: re.Match[str]) -> str:
        verb = match.group(1)
        if verb is None:
            return "Your" if match.group(0)[0].isupper() else "your"
        return "You " + _base_form(verb)

    return _USER_WITH_OTHERS.sub(lambda m: f"{m.group(1)} you", _ABOUT_USER.sub(swap, content))


_WAS = {"is": "was", "are": "were", "has": "used to have", "have": "used to have"}
_NOT_A_PRESENT_VERB = frozenset(("is", "are", "was", "were", "has", "have", "had", "used", "can", "will"))


def used_to(fact: str) -> str:
    """A third-person fact said of the past: "The user lives in Berlin" -> "The user used to live in Berlin";
    "The user's husband is Tom" -> "The user's husband was Tom"."""
    text = fact.strip().rstrip(".")
    m = BE_OR_HAVE.match(text)
    if m is not None and m.group(2).lower() in _WAS:
        subject, verb, rest = m.groups()
        return f"{subject} {_WAS[verb.lower()]} {rest}"
    m = SUBJECT_VERB.match(text)
    if m is not None and m.group(2) is None and m.group(3).lower() not in _NOT_A_PRESENT_VERB:
        subject, _, verb, rest = m.groups()
        return f"{subject} used to {_base_form(verb)}{rest}"
    return text
