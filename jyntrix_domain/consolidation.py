"""Consolidation: what becomes of each extracted fact against the user's current facts.

`Consolidator.find` looks up, directly, the facts a candidate could concern (`FactsFound`);
`decide` is a pure decision of named rules over them (add / update / supersede / ignore);
`Consolidator.apply` carries it out through MemoryService. Every memory id is derived from
(user, source message, slot or content), so a retried batch writes each memory once.

Slots
-----
A slot names a fact that has one current value per user. A candidate carries ``slot`` and
``value``; its memory keeps them in its own ``slot`` and ``value`` fields so later candidates can
find it (`MemoryFilter.slots`):

==========================  ==========================================================
slot                        meaning (value)
==========================  ==========================================================
name, age, nationality      identity (the name, the age, the nationality)
location, hometown,         where the user lives / comes from / was born (the place)
birthplace
job, employer, school,      work and study (job title or "retired", organisation, subject)
studies
transport                   how the user gets around (by bike, by car, ...)
tool:<purpose>              the tool used for a purpose: "tool:notes" (Notion, Obsidian)
goal:<kind>                 the current goal, plan or resolution (what it is)
learns:<subject>            the app or tool the user learns a subject with (Duolingo)
birthday                    the birthday as said
diet                        vegetarian, vegan, ..., or "not vegetarian"
habit:<verb> <thing>        a habit ("yes") or its absence ("no"): "habit:drink coffee",
                            "habit:smoke"; how often is left out of the slot
relation:<r>                single-valued relations: wife, husband, partner, boss,
                            mother, father, fiance, spouse ... (the person's name)
relation:<r>:<name>         multi-valued relations: sister, friend, dog, ... (the name);
                            one slot per person, so a second sister never replaces the first;
                            relation:met:<name> for someone the user met
preference:<thing>          like or dislike of a thing ("positive" / "negative")
favourite:<category>        the favourite thing of a category
allergy:<thing>             an allergy ("allergic")
children                    how many children
rule:language               the language answers should be in
==========================  ==========================================================

Changes of mind
---------------
Besides a new value for a slot, a candidate may say what it ends (`FactCandidate.ends`): the
current facts that mention a thing ("I switched from Duolingo to Babbel" ends what mentions
Duolingo; "scratch the half marathon" what mentions the half marathon). With a replacement each
such fact gets a successor that says the replacement where it said the thing ("The user learns
Dutch on Duolingo" becomes "The user learns Dutch on Babbel"); without one, a successor that says
it no longer holds. Turns end with the facts drawn from them (`jyntrix_domain.currency`).

The rules themselves, and the order they are tried in, are `jyntrix_domain.consolidation_rules`'s.
"""

from __future__ import annotations

import re

import msgspec

from jyntrix_domain.consolidation_rules import (
    Decision,
    FactsFound,
    Operation,
    candidate_id,
    decide,
    mentions,
    rewritten,
)
from jyntrix_domain.errors import Invalid, NotFound
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.memories import MemoryService, NewMemory
from jyntrix_domain.model import (
    Memory,
    MemoryFilter,
    MemoryId,
    MemoryKind,
    MemoryType,
    Origin,
    UserId,
    stable_id,
)
from jyntrix_domain.ports import Language

__all__ = ["FACT_KINDS", "Consolidator", "Decision", "FactsFound", "Operation", "decide"]


_SIMILAR_LIMIT = 10
_LIST_LIMIT = 50
# Every kind but turns: a turn is what was said and stays as said; it is never a candidate to compare with.
FACT_KINDS = frozenset(MemoryKind) - {MemoryKind.TURN}


# ---------------------------------------------------------------------------------------------- lookups and writes


def _main_clause(text: str) -> str:
    """A statement up to its first clause break: "a trip to Japan in October, two weeks in Tokyo" -> "a trip to
    Japan in October"."""
    return re.split(r"\s*(?:[,;:!?]|\s-+\s)\s*", text.strip(), maxsplit=1)[0]


def _negated(value: str) -> str:
    """A slot's value said to hold no longer: a habit's "yes" is "no"; any other value "not <value>"."""
    return {"yes": "no", "no": "yes"}.get(value.casefold(), f"not {value}")


class Consolidator:
    """Finds the facts a candidate concerns, decides by RULES, and carries the decision out."""

    def __init__(self, memories: MemoryService, language: Language) -> None:
        self._memories = memories
        self._language = language

    async def find(self, user_id: UserId, candidate: FactCandidate) -> FactsFound:
        """The user's current facts that the rules read for `candidate`: by slot, by what it ends, by words."""
        try:
            await self._memories.get(user_id, candidate_id(user_id, candidate))
            return FactsFound(stored=True, shared_words=self._language.fact_words)
        except NotFound:
            pass
        slots = {c.slot for c in candidate.contradicts} | ({candidate.slot} if candidate.slot else set())
        by_slot = await self._facts(user_id, MemoryFilter(slots=frozenset(slots))) if slots else []
        holders = tuple(m for m in by_slot if m.slot == candidate.slot and m.type is candidate.type)
        contradicted = tuple(
            m
            for m in by_slot
            for c in candidate.contradicts
            if m.type is candidate.type
            and m.slot == c.slot
            and (m.value or "").casefold() in {v.casefold() for v in c.values}
        )
        named = [m for m in await self._memories.get_many(user_id, candidate.replaces) if m.current]
        ended: dict[MemoryId, Memory] = {}
        for ending in candidate.ends:
            for memory in await self._facts(user_id, MemoryFilter(contains=ending.mention.strip())):
                # What the same message said is the change itself, not what it changes.
                said_here = not set(memory.source_message_ids).isdisjoint(candidate.source_message_ids)
                if (
                    mentions(memory.content, ending.mention)
                    and not said_here
                    and not (ending.replacement and mentions(memory.content, ending.replacement))
                ):
                    ended[memory.id] = memory
        try:
            similar = await self._memories.word_matches(
                user_id, candidate.content, types=frozenset({candidate.type}), limit=_SIMILAR_LIMIT
            )
        except Invalid:
            similar = []
        return FactsFound(
            named=tuple(named),
            holders=holders,
            contradicted=contradicted,
            ended=tuple(ended.values()),
            similar=tuple(m for m in similar if m.current and m.kind is not MemoryKind.TURN),
            shared_words=self._language.fact_words,
        )

    async def _facts(self, user_id: UserId, filter: MemoryFilter) -> list[Memory]:
        filter = msgspec.structs.replace(filter, kinds=FACT_KINDS, current_only=True, limit=_LIST_LIMIT)
        return await self._memories.list(user_id, filter)

    async def decide(self, user_id: UserId, candidate: FactCandidate) -> Decision:
        return decide(candidate, await self.find(user_id, candidate))

    async def apply(self, user_id: UserId, decision: Decision) -> Decision:
        """Carry the decision out; returns it with the id of the memory written."""
        candidate = decision.candidate
        match decision.operation:
            case Operation.IGNORE:
                return decision
            case Operation.ADD:
                memory = await self._memories.create(user_id, self.new_memory(user_id, candidate))
                return msgspec.structs.replace(decision, memory_id=memory.id)
            case Operation.UPDATE:
                assert decision.memory_id is not None
                current = await self._memories.get(user_id, decision.memory_id)
                await self._memories.update(
                    user_id,
                    decision.memory_id,
                    content=candidate.content,
                    reliability=max(current.reliability, candidate.reliability),
                    entities=tuple(dict.fromkeys((*current.entities, *candidate.entities))),
                    relations=tuple(dict.fromkeys((*current.relations, *candidate.relations))),
                    source_message_ids=candidate.source_message_ids,
                    value=candidate.value if candidate.slot else None,
                )
                return decision
            case Operation.SUPERSEDE:
                successor = await self._supersede(user_id, decision)
                return msgspec.structs.replace(decision, memory_id=successor.id)
        raise AssertionError(decision.operation)  # pragma: no cover

    async def _supersede(self, user_id: UserId, decision: Decision) -> Memory:
        candidate, ending = decision.candidate, decision.ending
        successor: Memory | None = None
        for old_id in decision.replaced:
            old = await self._memories.get(user_id, old_id)
            if not old.current:
                continue  # ended by an earlier decision of this batch
            if ending is None and successor is not None:
                # One successor for them all: the others end, replaced by it.
                at = min(successor.valid_from, self._memories.now())
                await self._memories.end(user_id, old_id, by=successor.id, at=at)
                continue
            successor = await self._memories.supersede(user_id, old_id, self.successor_of(user_id, old, decision))
        if successor is None or (ending is not None and ending.replacement is not None):
            # The candidate says something of its own beside the rewritten facts ("The user uses Babbel").
            successor = await self._memories.create(user_id, self.new_memory(user_id, candidate))
        return successor

    def successor_of(self, user_id: UserId, old: Memory, decision: Decision) -> NewMemory:
        """What replaces `old`: the candidate; for an ending, `old` saying the replacement, or `old` said to hold
        no longer (followed by what the user does instead, when said)."""
        candidate, ending = decision.candidate, decision.ending
        if ending is None:
            return self.new_memory(user_id, candidate)
        entities = tuple(dict.fromkeys((*old.entities, *candidate.entities)))
        if ending.replacement is not None and old.type is MemoryType.EPISODIC:
            # A plan or event told with details of its own ("a trip to Japan in October, two weeks in Tokyo") is
            # said again with the replacement in its main clause only: the details were the old plan's.
            content = rewritten(_main_clause(old.content), ending)
            entities = tuple(e for e in entities if mentions(content, e) or e in candidate.entities)
            value = None
        elif ending.replacement is not None:
            content = rewritten(old.content, ending)
            value = rewritten(old.value, ending) if old.value else None
        else:
            content = self._language.no_longer(old.content) + (f"; {ending.instead}" if ending.instead else "")
            value = None if old.slot is None or not old.value else _negated(old.value)
        return NewMemory(
            id=stable_id(user_id, old.id, "ended-by", candidate_id(user_id, candidate)),
            content=content,
            type=old.type,
            reliability=candidate.reliability,
            created_at=candidate.created_at,
            entities=entities,
            relations=candidate.relations if ending.replacement else (),
            slot=old.slot,
            value=value,
            source_message_ids=candidate.source_message_ids,
            occurred=old.occurred,
            origin=Origin(extractor=str(candidate.metadata.get("extractor") or "rules")),
        )

    def new_memory(self, user_id: UserId, candidate: FactCandidate) -> NewMemory:
        return NewMemory(
            id=candidate_id(user_id, candidate),
            content=candidate.content,
            type=candidate.type,
            reliability=candidate.reliability,
            created_at=candidate.created_at,
            entities=candidate.entities,
            relations=candidate.relations,
            slot=candidate.slot,
            value=candidate.value if candidate.slot else None,
            source_message_ids=candidate.source_message_ids,
            occurred=candidate.occurred,
            origin=Origin(extractor=str(candidate.metadata.get("extractor") or "rules")),
        )
