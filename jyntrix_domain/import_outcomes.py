"""What a bulk import did with each item: created, unchanged, conflicting or duplicate."""

from __future__ import annotations

import enum

import msgspec

from jyntrix_domain.model import Memory
from jyntrix_domain.succession import same_memory


class ImportOutcome(enum.StrEnum):
    """What importing one item did.

    `duplicate`: the item repeats a memory there already, so nothing new was stored: an id given earlier in
    the same batch, or content that a current memory of the user holds (after normalising whitespace and
    case; that memory is the item's answer, and it gains the item's sources).
    """

    CREATED = "created"
    UNCHANGED = "unchanged"
    CONFLICTING = "conflicting"
    DUPLICATE = "duplicate"


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    """The stored memory of each item, in the order given, and what importing it did."""

    memories: list[Memory]
    outcomes: list[ImportOutcome]

    @property
    def created(self) -> int:
        return sum(o is ImportOutcome.CREATED for o in self.outcomes)


def same_import(stored: Memory, asked: Memory, *, dated: bool) -> bool:
    """Whether the stored memory is what an import item asked for: every field the item sets (its
    `created_at` only when the item gave one, `dated`). An id that comes again saying anything else
    is `conflicting`, never `unchanged`: the stored memory is kept, and the caller is told."""
    return (
        same_memory(stored, asked)
        and (stored.reliability, stored.entities, stored.relations, stored.metadata)
        == (asked.reliability, asked.entities, asked.relations, asked.metadata)
        and (not dated or stored.created_at == asked.created_at)
    )
