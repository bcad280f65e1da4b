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
job, employer, school,      work and study (job title, organisation, subject)
studies
transport                   how the user gets around (by bike, by car, ...)
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

Changes of mind
---------------
Besides a new value for a slot, a candidate may say what it ends (`FactCandidate.ends`): the
current facts that mention a thing ("I switched from Duolingo to Babbel" ends what mentions
Duolingo; "scratch the half marathon" what mentions the half marathon). With a replacement each
such fact gets a successor that says the replacement where it said the thing ("The user learns
Dutch on Duolingo" becomes "The user learns Dutch on Babbel"); without one, a successor that says
it no longer holds. Turns end with the facts drawn from them (`jyntrix_domain.currency`).

Rules, in order (the first that applies wins; its name is the decision's reason):

1. ``already stored``: the candidate's own stable id is stored (a retried batch): ignore.
2. ``named by extractor``: the extractor (a language model shown the user's current facts) says which of
   them the candidate makes untrue: supersede those.
3. ``contradicts``: the candidate makes other slots' current values false ("The user doesn't drink
   coffee" ends "The user loves coffee"): supersede those, with the candidate's own slot holders
   and same-content facts, so the restated fact is again the newest.
4. ``ends``: the candidate ends facts that mention a thing (above): supersede each.
   ``nothing to end``: it would end facts that mention a thing, and none does: ignore (the turn keeps
   what was said).
5. ``same content``: a current fact of the same type has the same normalised content, or a token
   overlap (Jaccard) of at least 0.9: ignore.
6. ``reworded`` / ``more specific`` / ``new value``: the candidate has a slot a current fact holds:
   same value: update; a value that extends the old one (all old value tokens kept, "Berlin" then
   "Berlin, Germany"): update; any other value: supersede every holder of the slot.
7. ``less specific statement``: no slot, and a current fact whose content words (at least two) are a
   strict subset of the candidate's, covering at least half of them: update it.
8. ``new``: add.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence

import msgspec

from jyntrix_domain.errors import Invalid, NotFound
from jyntrix_domain.fact_rules import Ending, FactCandidate, content_words, jaccard, normalise
from jyntrix_domain.language.person import no_longer
from jyntrix_domain.memories import MemoryService, NewMemory
from jyntrix_domain.model import Memory, MemoryFilter, MemoryId, MemoryKind, Origin, UserId, stable_id


class Operation(enum.StrEnum):
    ADD = "add"
    UPDATE = "update"
    SUPERSEDE = "supersede"
    IGNORE = "ignore"


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """What becomes of a candidate. A SUPERSEDE ends `replaced`: by the candidate, or, for an `ending`, each
    by its own successor (the ended fact saying the replacement, or saying it holds no longer)."""

    operation: Operation
    candidate: FactCandidate
    memory_id: MemoryId | None = None
    replaced: tuple[MemoryId, ...] = ()
    # Set when the candidate ends what it names (rule "ends"): each replaced fact gets its own successor.
    ending: Ending | None = None
    reason: str = ""


class FactsFound(msgspec.Struct, frozen=True, kw_only=True):
    """The user's current facts a candidate could concern, as `Consolidator.find` looked them up."""

    stored: bool = False
    holders: tuple[Memory, ...] = ()  # the facts holding the candidate's slot
    contradicted: tuple[Memory, ...] = ()  # the facts holding a value the candidate makes false
    ended: tuple[Memory, ...] = ()  # the facts mentioning a thing the candidate ends
    named: tuple[Memory, ...] = ()  # the current facts the extractor says the candidate replaces
    similar: tuple[Memory, ...] = ()  # facts of the candidate's type sharing its words


_SIMILAR_LIMIT = 10
_LIST_LIMIT = 50
# Every kind but turns: a turn is what was said and stays as said; it is never a candidate to compare with.
FACT_KINDS = frozenset(MemoryKind) - {MemoryKind.TURN}


def candidate_id(user_id: UserId, candidate: FactCandidate) -> MemoryId:
    """The stable id of the memory a candidate would become: same batch, same id."""
    source = candidate.source_message_ids[0] if candidate.source_message_ids else ""
    what = f"slot={candidate.slot}" if candidate.slot else f"content={normalise(candidate.content)}"
    return stable_id(user_id, source, candidate.type.value, what)


def mentions(text: str, thing: str) -> bool:
    """Whether `text` names `thing` as words (any case): "Duolingo" in "learns Dutch on Duolingo"."""
    return re.search(rf"(?<!\w){re.escape(thing.strip())}(?!\w)", text, re.IGNORECASE) is not None


def rewritten(text: str, ending: Ending) -> str:
    """`text` saying the replacement where it said the thing."""
    assert ending.replacement is not None
    return re.sub(rf"(?<!\w){re.escape(ending.mention.strip())}(?!\w)", ending.replacement, text, flags=re.IGNORECASE)


def _extends(old: str, new: str) -> bool:
    old_t, new_t = content_words(old), content_words(new)
    return bool(old_t) and old_t < new_t


def _folded(values: Sequence[str]) -> set[str]:
    return {v.casefold() for v in values}


def _by_time(memories: Sequence[Memory]) -> tuple[MemoryId, ...]:
    return tuple(m.id for m in sorted(memories, key=lambda m: (m.created_at, m.id)))


# ---------------------------------------------------------------------------------------------- the rules

Rule = Callable[[FactCandidate, FactsFound], Decision | None]


def already_stored(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    return Decision(operation=Operation.IGNORE, candidate=candidate) if found.stored else None


def named_by_extractor(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    if not found.named:
        return None
    return Decision(operation=Operation.SUPERSEDE, candidate=candidate, replaced=_by_time(found.named))


def contradicts(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    if not found.contradicted:
        return None
    content = normalise(candidate.content)
    same = [
        m
        for m in (*found.holders, *found.similar)
        if (candidate.slot and m.slot == candidate.slot) or normalise(m.content) == content
    ]
    replaced = {m.id: m for m in (*same, *found.contradicted)}
    return Decision(operation=Operation.SUPERSEDE, candidate=candidate, replaced=_by_time(list(replaced.values())))


def ends(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    if not found.ended:
        return None
    ending = next((e for e in candidate.ends if e.replacement), candidate.ends[0])
    return Decision(operation=Operation.SUPERSEDE, candidate=candidate, replaced=_by_time(found.ended), ending=ending)


def nothing_to_end(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    """A statement that only ends something ("I quit the gym") ends nothing when no current fact names it:
    the turn keeps what was said; a fact would only say it again."""
    if candidate.ends and not candidate.slot and all(e.replacement is None for e in candidate.ends):
        return Decision(operation=Operation.IGNORE, candidate=candidate)
    return None


def same_content(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    content, tokens = normalise(candidate.content), content_words(candidate.content)
    for memory in (*found.holders, *found.similar):
        if normalise(memory.content) == content or jaccard(content_words(memory.content), tokens) >= 0.9:
            return Decision(operation=Operation.IGNORE, candidate=candidate, memory_id=memory.id)
    return None


def slot_value(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    if not candidate.slot or not found.holders:
        return None
    newest = max(found.holders, key=lambda m: m.created_at)
    old_value, new_value = newest.value or "", candidate.value or ""
    if old_value.casefold() == new_value.casefold():
        return Decision(operation=Operation.UPDATE, candidate=candidate, memory_id=newest.id, reason="reworded")
    if old_value and _extends(old_value, new_value):
        return Decision(operation=Operation.UPDATE, candidate=candidate, memory_id=newest.id, reason="more specific")
    return Decision(
        operation=Operation.SUPERSEDE, candidate=candidate, replaced=_by_time(found.holders), reason="new value"
    )


def less_specific_statement(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    if candidate.slot:
        return None
    tokens = content_words(candidate.content)
    for memory in found.similar:
        old = content_words(memory.content)
        if memory.slot is None and old < tokens and 2 <= len(old) >= len(tokens) / 2:
            return Decision(operation=Operation.UPDATE, candidate=candidate, memory_id=memory.id)
    return None


def new(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    return Decision(operation=Operation.ADD, candidate=candidate)


RULES: tuple[Rule, ...] = (
    already_stored,
    named_by_extractor,
    contradicts,
    ends,
    nothing_to_end,
    same_content,
    slot_value,
    less_specific_statement,
    new,
)


def decide(candidate: FactCandidate, found: FactsFound) -> Decision:
    """The first of RULES that applies; the decision's reason names it (or its finer case)."""
    for rule in RULES:
        decision = rule(candidate, found)
        if decision is not None:
            reason = decision.reason or rule.__name__.replace("_", " ")
            return msgspec.structs.replace(decision, reason=reason)
    raise AssertionError("the last rule always applies")  # pragma: no cover


# ---------------------------------------------------------------------------------------------- lookups and writes


class Consolidator:
    """Finds the facts a candidate concerns, decides by RULES, and carries the decision out."""

    def __init__(self, memories: MemoryService) -> None:
        self._memories = memories

    async def find(self, user_id: UserId, candidate: FactCandidate) -> FactsFound:
        """The user's current facts that the rules read for `candidate`: by slot, by what it ends, by words."""
        try:
            await self._memories.get(user_id, candidate_id(user_id, candidate))
            return FactsFound(stored=True)
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
        if ending.replacement is not None:
            content = rewritten(old.content, ending)
            value = rewritten(old.value, ending) if old.value else None
        else:
            content = no_longer(old.content) + (f"; {ending.instead}" if ending.instead else "")
            value = None if old.slot is None else f"not {old.value}" if old.value else None
        return NewMemory(
            id=stable_id(user_id, old.id, "ended-by", candidate_id(user_id, candidate)),
            content=content,
            type=old.type,
            reliability=candidate.reliability,
            created_at=candidate.created_at,
            entities=tuple(dict.fromkeys((*old.entities, *candidate.entities))),
            relations=candidate.relations if ending.replacement else (),
            slot=old.slot,
            value=value,
            source_message_ids=candidate.source_message_ids,
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
