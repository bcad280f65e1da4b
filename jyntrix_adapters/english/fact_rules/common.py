"""What every fact rule shares: the rule and fact-row types, text helpers, names and places.

A rule is a regular expression and a builder that rewrites the statement in the third person
about "the user" and gives it a type, a reliability, entities, relations and, for facts with one
current value, a slot (see `jyntrix_domain.consolidation` for the slot table).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from jyntrix_domain.fact_candidates import Contradiction, FactCandidate
from jyntrix_domain.language.stopwords import word_set
from jyntrix_domain.model import USER_NODE, MemoryType, Relation, entity_key

USER = USER_NODE


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


def relation_to(predicate: str, target: str) -> Relation:
    """A graph relation from the user: "works at" Acme is `user -works_at-> Acme`."""
    return Relation(source=USER, predicate=predicate.replace(" ", "_"), target=target)


def key_of(text: str) -> str:
    """The entity key of a thing without its article: "the Louvre" and "Louvre" share one."""
    return entity_key(re.sub(r"^(?:the|a|an)\s+", "", text.strip(), flags=re.IGNORECASE))


def make_candidate(
    type: MemoryType,
    content: str,
    *,
    slot: str | None = None,
    value: str | None = None,
    anchor: str | None = None,
    relations: Sequence[Relation] = (),
    entities: Sequence[str] = (),
    reliability: float = 0.9,
    metadata: Mapping[str, Any] | None = None,
    contradicts: Sequence[Contradiction] = (),
) -> FactCandidate:
    """A candidate from sequences (tuples are what it stores)."""
    return FactCandidate(
        type=type,
        content=content,
        slot=slot,
        value=value,
        anchor=anchor,
        contradicts=tuple(contradicts),
        relations=tuple(relations),
        entities=tuple(entities),
        reliability=reliability,
        metadata=dict(metadata or {}),
    )


Build = Callable[[re.Match[str], str], list[FactCandidate]]


class Rule(msgspec.Struct, frozen=True):
    """A pattern and what to build from each match of it in a sentence."""

    pattern: re.Pattern[str]
    build: Build
    # Also read with the previous sentence before it, for a statement that refers back ("Her name is Bella").
    spans_previous: bool = False


def clean_place(text: str) -> str:
    """A matched place or name without the punctuation around it."""
    return text.strip(" ,.;!")


def is_name(name: str) -> bool:
    """Whether a capitalised match names someone: "I'm Happy", "I'm German", "my friend Monday" do not."""
    first = name.split()[0]
    return first not in NOT_NAMES and first not in NATIONALITIES


class Fact(msgspec.Struct, frozen=True):
    """A fact whose one value is the match's first group: most rules are only this.

    ``content``, ``slot`` and ``anchor`` are templates over ``{value}`` and ``{key}`` (the value
    as an entity key, for slots held once per thing, such as one per allergen). The anchor is by
    default the content's wording before the value, so it cannot drift from what holders say.
    """

    type: MemoryType
    content: str
    slot: str
    anchor: str | None = None
    predicate: str | None = None
    entity: bool = False  # the value names a person, place or organisation
    clean: Callable[[str], str | None] = clean_place  # returns nothing to reject the match
    slot_value: str | None = None  # when the slot names the thing, its value is a state ("allergic")
    reliability: float = 0.9

    def __call__(self, m: re.Match[str], _: str) -> list[FactCandidate]:
        value = self.clean(m.group(1))
        return [self.make(value)] if value else []

    def make(self, value: str, metadata: Mapping[str, Any] | None = None) -> FactCandidate:
        def fill(template: str) -> str:
            return template.format(value=value, key=key_of(value))

        return make_candidate(
            self.type,
            fill(self.content),
            slot=fill(self.slot),
            value=self.slot_value or value,
            anchor=fill(self.anchor or self.content.partition("{value}")[0].rstrip()),
            entities=[value] if self.entity else (),
            relations=[relation_to(self.predicate, value)] if self.predicate else (),
            reliability=self.reliability,
            metadata=metadata,
        )


def rule(pattern: str, build: Build, *, spans_previous: bool = False) -> Rule:
    """A `Rule` from its pattern's source."""
    return Rule(re.compile(pattern), build, spans_previous)
