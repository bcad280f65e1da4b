"""What a write of a memory carries (NewMemory) and how it becomes a checked Memory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from jyntrix_domain.memory_rules import (
    check_content,
    check_entities,
    check_memory_id,
    check_reliability,
    check_slot,
)
from jyntrix_domain.model import (
    Memory,
    MemoryId,
    MemoryKind,
    MemoryType,
    Origin,
    Period,
    Place,
    Relation,
    UserId,
    new_id,
)


class NewMemory(msgspec.Struct, frozen=True, kw_only=True):
    """A memory to create; `created_at` may be in the past when importing history."""

    content: str
    type: MemoryType = MemoryType.SEMANTIC
    kind: MemoryKind = MemoryKind.FACT
    reliability: float = 0.8
    created_at: datetime | None = None
    entities: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    slot: str | None = None
    value: str | None = None
    source_message_ids: tuple[str, ...] = ()
    place: Place | None = None
    origin: Origin | None = None
    occurred: Period | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    id: MemoryId | None = None


def own_relations(relations: Sequence[Relation]) -> tuple[Relation, ...]:
    """The relations as a memory stores them: which memory asserts them is the memory itself."""
    return tuple(msgspec.structs.replace(r, memory_id=None) for r in relations)


def build_memory(user_id: UserId, new: NewMemory, now: datetime) -> Memory:
    """The memory `new` asks for, every limit checked; Invalid when one is broken."""
    at = new.created_at or now
    check_slot(new.slot, new.value)
    return Memory(
        id=new_id() if new.id is None else check_memory_id(new.id),
        user_id=user_id,
        type=new.type,
        kind=new.kind,
        content=check_content(new.content),
        reliability=check_reliability(new.reliability),
        created_at=at,
        updated_at=at,
        valid_from=at,
        entities=check_entities(new.entities, new.relations),
        relations=own_relations(new.relations),
        slot=new.slot,
        value=new.value,
        source_message_ids=new.source_message_ids,
        place=new.place,
        origin=new.origin,
        occurred=new.occurred,
        metadata=dict(new.metadata),
    )
