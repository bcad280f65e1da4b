"""What moves a user's memories in and out: the answer of a bulk import, and the export of everything."""

from __future__ import annotations

from datetime import datetime

import msgspec

from jyntrix_client.model import Entity, ImportOutcome, Memory, MemoryChange, Profile, Relation


class ImportedItem(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    id: str
    outcome: ImportOutcome


class MemoryImportResult(msgspec.Struct, frozen=True, kw_only=True):
    """`imported` counts the memories created; `memories` holds the stored one of each item, in order."""

    imported: int
    memories: list[Memory]
    items: list[ImportedItem]
    conflicting: int
    duplicates: int


class MemoryExport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything remembered about the caller: memories (current and past) with their history, the entity
    graph and the profile."""

    user_id: str
    exported_at: datetime
    memories: list[Memory]
    history: dict[str, list[MemoryChange]]
    entities: list[Entity]
    relations: list[Relation]
    profile: Profile | None
