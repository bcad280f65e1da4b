"""The rules of consolidation: a pure decision of named rules over the facts found for a candidate.

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

from jyntrix_domain.fact_candidates import Ending, FactCandidate, content_words, jaccard, normalise
from jyntrix_domain.model import Memory, MemoryId, UserId, stable_id


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
    shared_words: frozenset[str]  # what every fact says, not compared on (`Language.fact_words`)


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


def _extends(old: str, new: str, shared: frozenset[str]) -> bool:
    old_t, new_t = content_words(old, shared), content_words(new, shared)
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
    content, tokens = normalise(candidate.content), content_words(candidate.content, found.shared_words)
    for memory in (*found.holders, *found.similar):
        words = content_words(memory.content, found.shared_words)
        if normalise(memory.content) == content or jaccard(words, tokens) >= 0.9:
            return Decision(operation=Operation.IGNORE, candidate=candidate, memory_id=memory.id)
    return None


def slot_value(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    if not candidate.slot or not found.holders:
        return None
    newest = max(found.holders, key=lambda m: m.created_at)
    old_value, new_value = newest.value or "", candidate.value or ""
    if old_value.casefold() == new_value.casefold():
        return Decision(operation=Operation.UPDATE, candidate=candidate, memory_id=newest.id, reason="reworded")
    if old_value and _extends(old_value, new_value, found.shared_words):
        return Decision(operation=Operation.UPDATE, candidate=candidate, memory_id=newest.id, reason="more specific")
    return Decision(
        operation=Operation.SUPERSEDE, candidate=candidate, replaced=_by_time(found.holders), reason="new value"
    )


def less_specific_statement(candidate: FactCandidate, found: FactsFound) -> Decision | None:
    if candidate.slot:
        return None
    tokens = content_words(candidate.content, found.shared_words)
    for memory in found.similar:
        old = content_words(memory.content, found.shared_words)
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
