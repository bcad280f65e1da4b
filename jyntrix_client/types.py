"""The API's request and response bodies as msgspec Structs.

What the server encodes from the domain's own structs (a memory, its history, a conversation, the chat
events) the client decodes into those very structs, so the wire shape is written once, in
`jyntrix_domain.model`, `jyntrix_domain.signals` and `jyntrix_domain.chat_events` (stdlib and msgspec
only). The response views built from them are here, and the server's routes return these very views.
The request bodies are here too, with the limits the server holds them to: msgspec checks those only
when it decodes, so they cost the client nothing and the server reads these very structs (jyntrix_http
adds the checks no annotation can say, such as a time's range). tests/agents/test_client_schema.py
compares each with /schema/openapi.json, so a route that changes shape without this module fails a test.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from jyntrix_domain.chat_events import ChatEvent, ContextEvent, ConversationEvent, DoneEvent, ErrorEvent, TokenEvent
from jyntrix_domain.key_sizes import MAX_MEMORY_ID_BYTES, MAX_NAME_BYTES
from jyntrix_domain.memory_rules import MAX_CONTENT_CHARS, MAX_ENTITIES, MAX_NAME_CHARS, MAX_RELATIONS
from jyntrix_domain.model import (
    MAX_MESSAGE_CHARS,
    ChangeKind,
    ContextItem,
    Conversation,
    ExtractionStatus,
    Memory,
    MemoryChange,
    MemoryKind,
    MemoryType,
    Message,
    Relation,
    Role,
    StrategyOutcome,
    TranscriptImportResult,
    Usage,
)
from jyntrix_domain.signals import ScoreBreakdown, Signals

# The names this module has always offered for the server's own structs.
ContextMemory = ContextItem
Scores = ScoreBreakdown
ImportResult = TranscriptImportResult

# The request bodies' field types, with the limits the server decodes them under.
Content = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CONTENT_CHARS)]
Reliability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
# Entity names and ids are checked by jyntrix_domain.memory_rules, names as keys (casefolded, so "ß" counts
# twice), in characters and in UTF-8 bytes, before anything is stored; the schema only documents the limits.
EntityName = Annotated[
    str,
    msgspec.Meta(
        min_length=1, description=f"at most {MAX_NAME_CHARS} characters and {MAX_NAME_BYTES} bytes of UTF-8 as a key"
    ),
]
Entities = Annotated[list[EntityName], msgspec.Meta(description=f"at most {MAX_ENTITIES}")]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]
Metadata = dict[str, Any]

__all__ = [
    "ChangeKind",
    "ChatEvent",
    "ContextEvent",
    "ContextMemory",
    "Conversation",
    "ConversationDetail",
    "ConversationEvent",
    "ConversationPage",
    "DoneEvent",
    "ErrorEvent",
    "ExtractionStatus",
    "HistoryResponse",
    "ImportResult",
    "Memory",
    "MemoryChange",
    "MemoryIn",
    "MemoryKind",
    "MemoryPage",
    "MemoryPatch",
    "MemoryType",
    "Message",
    "MessagePage",
    "ProfileView",
    "Relation",
    "RelationIn",
    "Role",
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
    relations: Annotated[list[RelationIn], msgspec.Meta(description=f"at most {MAX_RELATIONS}")] = []
    slot: str | None = None
    value: str | None = None
    metadata: Metadata = {}
    id: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=MAX_MEMORY_ID_BYTES,
                description=f"at most {MAX_MEMORY_ID_BYTES} bytes of UTF-8 (so as many ASCII characters)",
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


class MemoryPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Memory]
    total: int
    limit: int
    offset: int


class SearchRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10
    types: list[MemoryType] | None = None
    # Like the list's `?kind=`: e.g. ["fact"] searches the extracted facts without every turn.
    kind: list[MemoryKind] | None = None


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    memory: Memory
    score: float
    match_types: list[str]
    scores: Scores


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


class ConversationPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Conversation]
    limit: int
    offset: int


class MessagePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Message]


class SendMessage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    # Sending the same id again after an `error` event retries the turn without storing the message twice.
    message_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:\-]+$")] | None = None
    # The speaker, when the user side is more than one person (a group chat): the turn memory reads "name: text".
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class TranscriptImport(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The import route's body: messages as the route takes them (role, content, created_at, name?, id?, metadata?)."""

    messages: list[dict[str, Any]]
    title: str | None = None
    conversation_id: str | None = None


class ConversationDetail(msgspec.Struct, frozen=True, kw_only=True):
    conversation: Conversation
    messages: list[Message]
    # Background extraction of the conversation's messages: `finished` once no batch is pending.
    extraction: ExtractionStatus
