"""What the rules read in a sentence: its clauses, the object of a verb, and the names and places it says."""

from __future__ import annotations

import re

from jyntrix_adapters.english.stopwords import word_set

# --------------------------------------------------------------------------- text helpers

_SENTENCE_SPLIT = re.compile(
    r"(?<=[.!?;])\s+|\n+|,?\s+(?:and|but|so|also)\s+(?=(?:I|I'm|I've|I'll|I'd|my|My)\b)|,\s+(?=(?:I|I'm|my|My)\s)"
)


_ONLY_A_NAME = re.compile(r"^(?:[A-Z][\w'\-]+|(?i:my|our)\s+\w+(?:\s+[A-Z][\w'\-]+)?)$")


def split_sentences(text: str) -> list[str]:
    """Sentences and first-person clauses ("I live in X and I work at Y" is two; "Tom and I broke up" one)."""
    parts = [p.strip(" \t,;-") for p in _SENTENCE_SPLIT.split(text)]
    out: list[str] = []
    for part in parts:
        if out and _ONLY_A_NAME.match(out[-1]) and part.startswith("I "):
            out[-1] = f"{out[-1]} and {part}"  # the clause split a plural subject ("Tom and I ...")
        elif part:
            out.append(part)
    return out


_TRAILING = re.compile(r"(?i)\s+(?:a lot|so much|very much|too|as well|a bit|any ?more|now|these days|nowadays)$")


def clean_object(text: str) -> str:
    """The object of a verb up to the end of its clause, without trailing intensifiers."""
    text = re.split(r"(?i)\s+(?:but|because|although|though|since|when|while|if|which)\b|[,.;!?()]", text)[0]
    text = re.sub(_TRAILING, "", text.strip())
    return text.strip(" '\"")


# --------------------------------------------------------------------------- names and places

NAME = r"([A-Z][\w'\-]+(?:\s+(?:van |de |von |da )?[A-Z][\w'\-]+){0,2})"
# After a comma, a capitalised word that a clause goes on from is its subject, not part of the place: "York,
# Nala loves the garden" is York; "Portland, Oregon" one place.
PLACE = (
    r"((?:the\s+)?[A-Z][\w'\-]*(?:(?:\s+|,\s*(?![A-Z][\w'\-]*\s+[a-z]))"
    r"(?:(?:of|de|am|upon|on|du|la|le|del)\s+)?[A-Z][\w'\-]*){0,3})"
)
NOT_NAMES = word_set(
    """I Im Hi Hello Hey Yes No Not Ok Okay So Sorry Just Also Still Really Very Here There Back Done Fine Good
    Great Happy Sad Tired Sure Ready Going Home Busy Glad Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    January February March April May June July August September October November December The A An From In At
    On To Into With Afraid Sick Excited Interested Looking Thinking Trying Working Living Learning Planning
    Moving Reading Writing Bored Hungry Back"""
)
NATIONALITIES = word_set(
    """American British English Scottish Welsh Irish German French Spanish Italian Portuguese Dutch Belgian Swiss
    Austrian Swedish Norwegian Danish Finnish Polish Czech Greek Turkish Russian Ukrainian Canadian Mexican
    Brazilian Argentinian Chilean Colombian Peruvian Australian Chinese Japanese Korean Indian Pakistani
    Nigerian Kenyan Egyptian Israeli Iranian Vietnamese Thai Filipino Indonesian Hungarian Romanian
    Bulgarian Croatian Serbian"""
)
LANGUAGES = word_set(
    """English German French Spanish Italian Portuguese Dutch Swedish Norwegian Danish Finnish Polish Czech
    Greek Turkish Russian Ukrainian Chinese Mandarin Cantonese Japanese Korean Hindi Arabic Hebrew Persian
    Vietnamese Thai Indonesian Hungarian Romanian Catalan Basque"""
)


def clean_place(text: str) -> str:
    """A matched place or name without the punctuation around it."""
    return text.strip(" ,.;!")


def is_name(name: str) -> bool:
    """Whether a capitalised match names someone: "I'm Happy", "I'm German", "my friend Monday" do not."""
    first = name.split()[0]
    return first not in NOT_NAMES and first not in NATIONALITIES
