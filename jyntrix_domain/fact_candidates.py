"""What an extractor proposes (`FactCandidate`) and how two statements of one fact are compared.

Any `Extractor` (jyntrix_domain.ports) returns candidates; the Consolidator decides what becomes of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec

from jyntrix_domain.model import MemoryType, Period, Relation
from jyntrix_domain.terms import word_tokens


class Contradiction(msgspec.Struct, frozen=True):
    """Another slot's value that a candidate makes false: "doesn't drink coffee" ends "loves coffee"."""

    slot: str
    values: tuple[str, ...]
    anchor: str  # wording the holders' content contains, to list them


class Ending(msgspec.Struct, frozen=True, kw_only=True):
    """What a statement ends: the user's current facts that mention `mention` ("switched from Duolingo to
    Babbel" ends what mentions Duolingo). With a `replacement` each such fact is said again with it
    instead; without one it holds no longer, and `instead` is what the user does now, when said."""

    mention: str
    replacement: str | None = None
    instead: str | None = None


class FactCandidate(msgspec.Struct, frozen=True, kw_only=True):
    """A memory an extractor proposes; the Consolidator decides what becomes of it.

    `ends` names what the statement ends (`Ending`); `replaces` the current facts the extractor says it makes
    untrue, by id; `occurred` is when what it tells of happened.
    """

    type: MemoryType
    content: str
    reliability: float = 0.8
    entities: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    slot: str | None = None
    value: str | None = None
    anchor: str | None = None
    contradicts: tuple[Contradiction, ...] = ()
    ends: tuple[Ending, ...] = ()
    # The ids of current facts the extractor says this one makes untrue (a language model shown them).
    replaces: tuple[str, ...] = ()
    source_message_ids: tuple[str, ...] = ()
    created_at: datetime | None = None
    occurred: Period | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


def normalise(text: str) -> str:
    """Casefolded words only: what two statements of the same fact have in common."""
    return " ".join(word_tokens(text.casefold()))


def content_words(text: str, shared: frozenset[str]) -> frozenset[str]:
    """The casefolded words two statements of one fact are compared on: all but the `shared` ones, which every
    fact says (`Language.fact_words`)."""
    return frozenset(t for t in word_tokens(text.casefold()) if t not in shared)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Shared over all words: 1.0 for the same words, 0.0 when either is empty."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def merge_fact_candidates(candidates: Iterable[FactCandidate]) -> list[FactCandidate]:
    """One candidate per slot (the last statement wins) and per content."""
    by_key: dict[str, FactCandidate] = {}
    for c in candidates:
        key = f"slot:{c.type.value}:{c.slot}" if c.slot else f"content:{normalise(c.content)}"
        previous = by_key.pop(key, None)
        if previous is not None and previous.slot and c.slot and previous.value == c.value:
            c = msgspec.structs.replace(
                c, source_message_ids=tuple(dict.fromkeys((*previous.source_message_ids, *c.source_message_ids)))
            )
        if previous is not None and previous.ends and not c.ends:
            # The same sentence read as an ending and as what the user does instead keeps what it ends.
            c = msgspec.structs.replace(c, ends=previous.ends)
        by_key[key] = c
    return list(by_key.values())
