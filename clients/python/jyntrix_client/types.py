"""The API's request bodies and response views as msgspec Structs, and every wire type under one import.

The structs the server encodes are the client's own (jyntrix_client.model, .scores, .chat_events): the
server converts its domain model into them at its HTTP edge and returns them, and the client decodes
them. The request bodies are here with the limits the server holds them to (jyntrix_client.limits):
msgspec checks those only when it decodes, so they cost the client nothing, and the server decodes these
very structs (jyntrix_http adds the checks no annotation can say, such as a time's range).
tests/agents/test_client_schema.py compares each with /schema/openapi.json, so a route that changes shape
without this package fails a test.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from jyntrix_client import limits
from jyntrix_client.chat_events import (
    ChatEvent,
    ContextEvent,
    ContextItem,
    ConversationEvent,
    DoneEvent,
    ErrorEvent,
    TokenEvent,
)
from jyntrix_client.export_import import (
    AccountExport,
    ExportedConversation,
    ImportedItem,
    MemoryExport,
    MemoryImportResult,
    RestoreCounts,
    RestoreReport,
)
from jyntrix_client.model import (
    ChangeKind,
    Conversation,
    Entity,
    ExtractionStatus,
    ForgetResult,
    ImportOutcome,
    Memory,
    MemoryChange,
    MemoryKind,
    MemoryType,
    Message,
    Origin,
    Period,
    Place,
    Profile,
    Relation,
    Role,
    StrategyOutcome,
    TranscriptImportResult,
    Usage,
)
from jyntrix_client.scores import ScoreBreakdown, Signals

# The names this module has always offered.
ContextMemory = ContextItem
Scores = ScoreBreakdown
ImportResult = TranscriptImportResult

# The request bodies' field types, with the limits the server decodes them under.
Content = Annotated[str, msgspec.Meta(min_length=1, max_length=limits.MAX_CONTENT_CHARS)]
Reliability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
# Entity names and ids are checked by the server, names as keys (casefolded, so "ß" counts twice), in
# characters and in UTF-8 bytes, before anything is stored; the schema only documents the limits.
EntityName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        description=f"at most {limits.MAX_NAME_CHARS} characters and {limits.MAX_NAME_BYTES} bytes of UTF-8 as a key",
    ),
]
Entities = Annotated[list[EntityName], msgspec.Meta(description=f"at most {limits.MAX_ENTITIES}")]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]
Metadata = dict[str, Any]
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=limits.MAX_ID_CHARS)]
PreferenceKey = Annotated[str, msgspec.Meta(min_length=1, max_length=limits.MAX_PREFERENCE_KEY_CHARS)]
PreferenceValue = Annotated[str, msgspec.Meta(max_length=limits.MAX_PREFERENCE_VALUE_CHARS)]

__all__ = [
    "AccountExport",
    "ChangeKind",
    "ChatEvent",
    "ContextEvent",
    "ContextItem",
    "ContextMemory",
    "Conversation",
    "ConversationDetail",
    "ConversationEvent",
    "ConversationPage",
    "DoneEvent",
    "Entity",
    "ErrorEvent",
    "ExportedConversation",
    "ExtractionStatus",
    "ForgetResult",
    "HistoryResponse",
    "ImportOutcome",
    "ImportRequest",
    "ImportResult",
    "ImportedItem",
    "Memory",
    "MemoryChange",
    "MemoryExport",
    "MemoryImportResult",
    "MemoryIn",
    "MemoryKind",
    "MemoryPage",
    "MemoryPatch",
    "MemoryType",
    "Message",
    "MessagePage",
    "Origin",
    "Period",
    "Place",
    "Profile",
    "ProfilePatch",
    "ProfileView",
    "Relation",
    "RelationIn",
    "Remembered",
    "RestoreCounts",
    "RestoreReport",
    "Role",
    "ScoreBreakdown",
    "Scores",
    "SearchRequest",
    "SearchResponse",
    "SearchResult",
    "SendMessage",
    "Signals",
    "StrategyOutcome",
    "TokenEvent",
    "TranscriptImport",
    "TranscriptImportResult",
    "TranscriptMessageIn",
    "Usage",
]


class RelationIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    source: EntityName
    predicate: EntityName
    target: EntityName


class MemoryIn(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """A memory to create (or the newer fact that supersedes one)."""

    content: Content
    type: MemoryType = MemoryType.SEMANTIC
    reliability: Reliability = 0.8
    created_at: AwareTime | None = None
    entities: Entities = []
    relations: Annotated[list[RelationIn], msgspec.Meta(description=f"at most {limits.MAX_RELATIONS}")] = []
    slot: str | None = None
    value: str | None = None
    metadata: Metadata = {}
    id: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=limits.MAX_MEMORY_ID_BYTES,
                description=f"at most {limits.MAX_MEMORY_ID_BYTES} bytes of UTF-8 (so as many ASCII characters)",
            ),
        ]
        | None
    ) = None


class MemoryPatch(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """Fields to change. `metadata` merges key by key into the memory's metadata; a key set to null is removed."""

    content: Content | None = None
    type: MemoryType | None = None
    reliability: Reliability | None = None
    entities: Entities | None = None
    metadata: Metadata | None = None


class ImportRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Memories to import at once, with their own dates and ids."""

    memories: Annotated[list[MemoryIn], msgspec.Meta(min_length=1, max_length=limits.MAX_IMPORT_MEMORIES)]


class MemoryPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Memory]
    total: int
    limit: int
    offset: int


class SearchRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.MAX_QUERY_CHARS)]
    limit: Annotated[int, msgspec.Meta(ge=1, le=limits.MAX_SEARCH_LIMIT)] = 10
    types: list[MemoryType] | None = None
    # Like the list's `?kind=`: e.g. ["fact"] searches the extracted facts without every turn.
    kind: list[MemoryKind] | None = None
    # Search the memory as it stood then: later memories left out; recency, "now" and currentness as of then.
    as_of: Annotated[AwareTime | None, msgspec.Meta(description="search as of this time (default: now)")] = None


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    """One memory found: `current` says whether it was true at the time searched (as_of, or now); one that had
    ended is history, found with its span (`valid_from`, `valid_until`)."""

    memory: Memory
    score: float
    match_types: list[str]
    scores: ScoreBreakdown
    current: bool = True
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class Remembered(Memory, frozen=True, kw_only=True):
    """A memory as a write answers it: `duplicate` when a current memory said the same already (whitespace
    and case aside); that memory is the answer, and it now cites the new write's sources too."""

    duplicate: bool = False


class SearchResponse(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    results: list[SearchResult]
    strategies: list[StrategyOutcome]
    degraded: Annotated[bool, msgspec.Meta(description="some strategy failed or timed out; results may be partial")]


class HistoryResponse(msgspec.Struct, frozen=True, kw_only=True):
    memory_id: str
    changes: list[MemoryChange]


class ProfileView(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    display_name: str | None
    preferences: dict[str, str]
    memories: list[Memory]
    updated_at: str | None


class ProfilePatch(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """Fields to change; a preference set to null is removed, one left out is kept."""

    display_name: Annotated[str, msgspec.Meta(max_length=limits.MAX_DISPLAY_NAME_CHARS)] | None = None
    preferences: Annotated[
        dict[PreferenceKey, PreferenceValue | None], msgspec.Meta(max_length=limits.MAX_PREFERENCES)
    ] = {}


class ConversationPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Conversation]
    limit: int
    offset: int


class MessagePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Message]


class ConversationDetail(msgspec.Struct, frozen=True, kw_only=True):
    conversation: Conversation
    messages: list[Message]
    # Background extraction of the conversation's messages: `finished` once no batch is pending.
    extraction: ExtractionStatus


class SendMessage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.MAX_MESSAGE_CHARS)]
    # Sending the same id again after an `error` event retries the turn without storing the message twice.
    message_id: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=limits.MAX_ID_CHARS, pattern=r"^[A-Za-z0-9._:\-]+$")]
        | None
    ) = None
    # The speaker, when the user side is more than one person (a group chat): the turn memory reads "name: text".
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.MAX_NAME_CHARS)] | None = None


class TranscriptMessageIn(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """One message of a transcript, with its own time; `id` is the caller's own id for it, if it has one."""

    role: Literal["user", "assistant"]
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.MAX_TRANSCRIPT_CONTENT_CHARS)]
    created_at: AwareTime
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.MAX_SPEAKER_CHARS)] | None = None
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.MAX_CLIENT_ID_CHARS)] | None = None
    metadata: Metadata = {}


class TranscriptImport(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The import route's body as the client sends it: each message as TranscriptMessageIn's fields (a
    mapping or the struct), so the server, not the client, checks them."""

    messages: list[dict[str, Any]]
    title: str | None = None
    conversation_id: str | None = None
