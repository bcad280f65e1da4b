"""What every fact rule shares: the rule and fact-row types, and the candidates and relations they build.

A rule is a regular expression and a builder that rewrites the statement in the third person
about "the user" and gives it a type, a reliability, entities, relations and, for facts with one
current value, a slot (see `jyntrix_domain.consolidation` for the slot table).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from jyntrix_adapters.english.fact_rules.phrases import clean_place
from jyntrix_domain.fact_candidates import Contradiction, FactCandidate
from jyntrix_domain.model import USER_NODE, MemoryType, Relation, entity_key

USER = USER_NODE


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
