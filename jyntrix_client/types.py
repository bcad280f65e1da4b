"""The API's request and response bodies as msgspec Structs.

What the server encodes from the domain's own structs (a memory, its history, a conversation, the chat
events) the client decodes into those very structs, so the wire shape is written once, in
`jyntrix_domain.model`, `jyntrix_domain.signals` and `jyntrix_domain.chat_events` (stdlib and msgspec
only). The response views built from them are here, and the server's routes return these very views.
The request bodies are here as the client sends them (the server's own, in jyntrix_http.routes, add
its validation); tests/agents/test_client_schema.py compares each with /schema/openapi.json, so a
route that changes shape without this module fails a test.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from jyntrix_domain.chat_events import ChatEvent, ContextEvent, ConversationEvent, DoneEvent, ErrorEvent, TokenEvent
from jyntrix_domain.model import (
    ChangeKind,
    ContextItem,
    Conversation,
    ExtractionStatus,
    ImportResult,
    Memory,
    MemoryChange,
    MemoryKind,
    MemoryType,
    Message,
    Relation,
    Role,
    StrategyOutcome,
    Usage,
)
from jyntrix_domain.signals import ScoreBreakdown, Signals

# The names this module has always offered for the server's own structs.
ContextMemory = ContextItem
Scores = ScoreBreakdown

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
    "Usage",
]


class RelationIn(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    predicate: str
    target: str


class MemoryIn(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A memory to create (or the newer fact that supersedes one)."""

    content: str
    type: MemoryType = MemoryType.SEMANTIC
    reliability: float = 0.8
    created_at: datetime | None = None
    entities: list[str] = []
    relations: list[RelationIn] = []
    slot: str | None = None
    value: str | None = None
    metadata: dict[str, Any] = {}
    id: str | None = None


class MemoryPatch(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Fields to change on a memory; None leaves a field as it is."""

    content: str | None = None
    type: MemoryType | None = None
    reliability: float | None = None
    entities: list[str] | None = None
    metadata: dict[str, Any] | None = None


class MemoryPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Memory]
    total: int
    limit: int
    offset: int


class SearchRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    query: str
    limit: int = 10
    types: list[MemoryType] | None = None
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


class SendMessage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    content: str
    message_id: str | None = None
    name: str | None = None


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
