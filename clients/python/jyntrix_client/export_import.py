"""What moves a user's memories in and out: the answer of a bulk import, and the export of everything."""

from __future__ import annotations

from datetime import datetime

import msgspec

from jyntrix_client.model import (
    Conversation,
    Entity,
    ImportOutcome,
    Memory,
    MemoryChange,
    Message,
    Profile,
    Relation,
)


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


class ExportedConversation(Conversation, frozen=True, kw_only=True):
    """A conversation with every one of its messages, oldest first."""

    messages: list[Message] = []


class AccountExport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about the caller, as `GET /api/memories/export` gives it and `POST /api/memories/restore`
    takes it: memories (current and past) with their history, the entity graph, the profile, and the
    conversations with their messages."""

    user_id: str
    exported_at: datetime
    memories: list[Memory]
    history: dict[str, list[MemoryChange]]
    entities: list[Entity]
    relations: list[Relation]
    profile: Profile | None
    conversations: list[ExportedConversation] = []


# The name this package first gave the export.
MemoryExport = AccountExport


class RestoreCounts(msgspec.Struct, frozen=True, kw_only=True):
    memories: int = 0
    conversations: int = 0
    messages: int = 0
    profile: int = 0


class RestoreReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a restore wrote (`restored`) and what the account held already with the same ids (`unchanged`)."""

    user_id: str
    restored: RestoreCounts
    unchanged: RestoreCounts
