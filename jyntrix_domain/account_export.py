"""The shapes of a user's whole account as one document: the export, and what a restore of it reports.

The export's parts are the model's own structs, so a field the model gains travels in it with no change here.
The service that makes and restores them is jyntrix_domain.portability.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from jyntrix_domain.model import (
    Conversation,
    Entity,
    Memory,
    MemoryChange,
    MemoryId,
    Message,
    Profile,
    Relation,
    UserId,
)


class ExportedConversation(Conversation, frozen=True, kw_only=True):
    """A conversation with every one of its messages, oldest first."""

    messages: list[Message] = msgspec.field(default_factory=list)

    def conversation(self) -> Conversation:
        return Conversation(**{name: getattr(self, name) for name in Conversation.__struct_fields__})


class AccountExport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about one user, as `GET /api/memories/export` gives it and a restore takes it.

    `history` holds each memory's changes, oldest first. `entities` and `relations` are the graph the memories
    make (a restore rebuilds it from them). `conversations` may be left out: exports made before it was added
    have none.
    """

    user_id: UserId
    exported_at: datetime
    memories: list[Memory]
    history: dict[MemoryId, list[MemoryChange]]
    entities: list[Entity]
    relations: list[Relation]
    profile: Profile | None
    conversations: list[ExportedConversation] = msgspec.field(default_factory=list)


class RestoreCounts(msgspec.Struct, frozen=True, kw_only=True):
    memories: int = 0
    conversations: int = 0
    messages: int = 0
    profile: int = 0


class RestoreReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a restore wrote (`restored`) and what the account held already with the same ids (`unchanged`)."""

    user_id: UserId
    restored: RestoreCounts
    unchanged: RestoreCounts
