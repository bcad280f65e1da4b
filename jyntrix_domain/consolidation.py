"""Consolidation: what becomes of each extracted fact against the user's current memories.

`Consolidator.decide` picks add / update / supersede / ignore for a FactCandidate and
`Consolidator.apply` carries it out through MemoryService. Every memory id is derived from
(user, source message, slot or content), so a retried batch writes each memory once.

Slots
-----
A slot names a fact that has one current value per user. A candidate carries ``slot`` and
``value``; its memory keeps them in its own ``slot`` and ``value`` fields so later candidates can
find it:

==========================  ==========================================================
slot                        meaning (value)
==========================  ==========================================================
name, age, nationality      identity (the name, the age, the nationality)
location, hometown,         where the user lives / comes from / was born (the place)
birthplace
job, employer, school,      work and study (job title, organisation, subject)
studies
birthday                    the birthday as said
diet                        vegetarian, vegan, ..., or "not vegetarian"
habit:<verb> <thing>        a habit ("yes") or its absence ("no"): "habit:drink coffee",
                            "habit:smoke"; how often is left out of the slot
relation:<r>                single-valued relations: wife, husband, partner, boss,
                            mother, father, ... (the person's name)
relation:<r>:<name>         multi-valued relations: sister, friend, dog, ... (the name);
                            one slot per person, so a second sister never replaces the first;
                            relation:met:<name> for someone the user met
preference:<thing>          like or dislike of a thing ("positive" / "negative")
favourite:<category>        the favourite thing of a category
allergy:<thing>             an allergy ("allergic")
children                    how many children
rule:language               the language answers should be in
==========================  ==========================================================

Consolidation rules, in order (the first that applies wins):

1. The candidate's own stable id is already stored: ``ignore`` (a retried batch).
2. The candidate contradicts other slots' values (its ``contradicts``: "The user doesn't drink
   coffee" ends "The user loves coffee", "The user eats meat" ends "The user is vegetarian") and
   current memories hold them: ``supersede`` those, with the candidate's own slot holders and
   same-content memories, so the restated fact is again the newest.
3. A current memory of the same type has the same normalised content, or a token overlap
   (Jaccard) of at least 0.9: ``ignore``.
4. The candidate has a slot and a current memory holds that slot:
   same value and same content: ``ignore``; same value, other wording: ``update``;
   a new value that extends the old one (all old value tokens kept, e.g. "Berlin" then
   "Berlin, Germany"): ``update``; any other value: ``supersede`` every holder of the slot.
5. No slot: a current memory whose content words (at least two) are a strict subset of the
   candidate's, covering at least half of them, is a less specific statement of the same fact:
   ``update`` it.
6. Otherwise: ``add``.

Memories of the same type are looked up by a search with the candidate's content and, for
slotted candidates, by listing memories whose content contains the slot's fixed wording
(``anchor``), so a slot holder is found even when search ranks it low.
"""

from __future__ import annotations

import enum

import msgspec

from jyntrix_domain.errors import Invalid, NotFound
from jyntrix_domain.fact_rules import FactCandidate, content_words, jaccard, normalise
from jyntrix_domain.memories import MemoryService, NewMemory
from jyntrix_domain.model import Memory, MemoryFilter, MemoryId, MemoryKind, UserId, stable_id


class Operation(enum.StrEnum):
    ADD = "add"
    UPDATE = "update"
    SUPERSEDE = "supersede"
    IGNORE = "ignore"


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    operation: Operation
    candidate: FactCandidate
    memory_id: MemoryId | None = None
    replaced: tuple[MemoryId, ...] = ()
    reason: str = ""


_SEARCH_LIMIT = 10
_ANCHOR_LIMIT = 50


def candidate_id(user_id: UserId, candidate: FactCandidate) -> MemoryId:
    """The stable id of the memory a candidate would become: same batch, same id."""
    source = candidate.source_message_ids[0] if candidate.source_message_ids else ""
    what = f"slot={candidate.slot}" if candidate.slot else f"content={normalise(candidate.content)}"
    return stable_id(user_id, source, candidate.type.value, what)


# Every kind but turns: a turn is never a candidate to compare with, so searches leave it out up front.
_COMPARABLE_KINDS = frozenset(MemoryKind) - {MemoryKind.TURN}


def _comparable(memory: Memory) -> bool:
    # A turn is what was said and stays as said: consolidation never compares with it.
    return memory.is_current and memory.kind is not MemoryKind.TURN


def _extends(old: str, new: str) -> bool:
    old_t, new_t = content_words(old), content_words(new)
    return bool(old_t) and old_t < new_t


class Consolidator:
    """Decides add / update / supersede / ignore for each candidate against the user's current memories.

    The rules are in this module's docstring; `apply` carries the decision out through MemoryService.
    """

    def __init__(self, memories: MemoryService) -> None:
        self._memories = memories

    async def similar(self, user_id: UserId, candidate: FactCandidate) -> list[Memory]:
        """The user's current memories of the candidate's type that may state the same fact."""
        types = frozenset({candidate.type})
        found: dict[MemoryId, Memory] = {}
        try:
            # A lookup, not a user's search: kept out of the strategy analytics.
            similar = await self._memories.search(
                user_id, candidate.content, limit=_SEARCH_LIMIT, types=types, kinds=_COMPARABLE_KINDS, record=False
            )
            for ranked in similar:
                found[ranked.memory.id] = ranked.memory
        except Invalid:
            pass
        if candidate.anchor:
            listed = await self._memories.list(
                user_id,
                MemoryFilter(types=types, kinds=_COMPARABLE_KINDS, contains=candidate.anchor, limit=_ANCHOR_LIMIT),
            )
            for memory in listed:
                found.setdefault(memory.id, memory)
        return [m for m in found.values() if _comparable(m) and m.type is candidate.type]

    async def contradicted(self, user_id: UserId, candidate: FactCandidate) -> list[Memory]:
        """The user's current memories holding a slot value the candidate makes false."""
        found: dict[MemoryId, Memory] = {}
        for c in candidate.contradicts:
            # Of the candidate's type, like `similar`: a contradiction is between facts of one kind.
            listed = await self._memories.list(
                user_id,
                MemoryFilter(
                    types=frozenset({candidate.type}), kinds=_COMPARABLE_KINDS, contains=c.anchor, limit=_ANCHOR_LIMIT
                ),
            )
            values = {v.casefold() for v in c.values}
            for memory in listed:
                if _comparable(memory) and memory.slot == c.slot and (memory.value or "").casefold() in values:
                    found[memory.id] = memory
        return list(found.values())

    async def decide(self, user_id: UserId, candidate: FactCandidate) -> Decision:
        own_id = candidate_id(user_id, candidate)
        try:
            await self._memories.get(user_id, own_id)
            return Decision(operation=Operation.IGNORE, candidate=candidate, memory_id=own_id, reason="already stored")
        except NotFound:
            pass
        existing = await self.similar(user_id, candidate)
        content = normalise(candidate.content)
        tokens = content_words(candidate.content)
        contradicted = await self.contradicted(user_id, candidate)
        if contradicted:
            same = [
                m for m in existing if (candidate.slot and m.slot == candidate.slot) or normalise(m.content) == content
            ]
            replaced = {m.id: m for m in (*same, *contradicted)}
            return Decision(
                operation=Operation.SUPERSEDE,
                candidate=candidate,
                replaced=tuple(m.id for m in sorted(replaced.values(), key=lambda m: (m.created_at, m.id))),
                reason="contradicts " + ", ".join(sorted({str(m.slot) for m in contradicted})),
            )
        for memory in existing:
            if normalise(memory.content) == content or jaccard(content_words(memory.content), tokens) >= 0.9:
                return Decision(
                    operation=Operation.IGNORE, candidate=candidate, memory_id=memory.id, reason="same content"
                )
        if candidate.slot:
            holders = [m for m in existing if m.slot == candidate.slot]
            if holders:
                newest = max(holders, key=lambda m: m.created_at)
                old_value = newest.value or ""
                new_value = candidate.value or ""
                if old_value.casefold() == new_value.casefold():
                    return Decision(
                        operation=Operation.UPDATE, candidate=candidate, memory_id=newest.id, reason="reworded"
                    )
                if old_value and _extends(old_value, new_value):
                    return Decision(
                        operation=Operation.UPDATE, candidate=candidate, memory_id=newest.id, reason="more specific"
                    )
                return Decision(
                    operation=Operation.SUPERSEDE,
                    candidate=candidate,
                    replaced=tuple(m.id for m in sorted(holders, key=lambda m: m.created_at)),
                    reason=f"new value for {candidate.slot}",
                )
        else:
            for memory in existing:
                old = content_words(memory.content)
                if memory.slot is None and old < tokens and 2 <= len(old) >= len(tokens) / 2:
                    return Decision(
                        operation=Operation.UPDATE, candidate=candidate, memory_id=memory.id, reason="more specific"
                    )
        return Decision(operation=Operation.ADD, candidate=candidate, reason="new")

    async def apply(self, user_id: UserId, decision: Decision) -> Decision:
        """Carry the decision out; returns it with the id of the memory written."""
        candidate = decision.candidate
        match decision.operation:
            case Operation.IGNORE:
                return decision
            case Operation.ADD:
                memory = await self._memories.create(user_id, self._new(user_id, candidate))
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
                    metadata=candidate.metadata,
                    source_message_ids=candidate.source_message_ids,
                    value=candidate.value if candidate.slot else None,
                )
                return decision
            case Operation.SUPERSEDE:
                new = self._new(user_id, candidate)
                successor: Memory | None = None
                for old_id in decision.replaced:
                    successor = await self._memories.supersede(user_id, old_id, new)
                assert successor is not None
                return msgspec.structs.replace(decision, memory_id=successor.id)
        raise AssertionError(decision.operation)  # pragma: no cover

    def _new(self, user_id: UserId, candidate: FactCandidate) -> NewMemory:
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
            metadata={"extracted": True, **candidate.metadata},
        )
