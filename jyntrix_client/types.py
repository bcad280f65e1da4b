"""The API's request and response bodies as msgspec Structs, mirroring the served OpenAPI schema.

tests/agents/test_client_schema.py compares each of these with /schema/openapi.json (and the chat events with
the server's own event types), so a route that changes shape without this module fails a test.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import msgspec


class MemoryType(enum.StrEnum):
    PROFILE = "profile"
    SEMANTIC = "semantic"
    EPISODIC = "episodic"
    PROCEDURAL = "procedural"


class MemoryKind(enum.StrEnum):
    TURN = "turn"
    FACT = "fact"
    SUMMARY = "summary"


class Relation(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    predicate: str
    target: str
    memory_id: str | None = None


class Memory(msgspec.Struct, frozen=True, kw_only=True):
    """One memory; a superseded fact keeps `valid_until` and `superseded_by`."""

    id: str
    user_id: str
    type: MemoryType
    content: str
    created_at: datetime
    updated_at: datetime
    valid_from: datetime
    reliability: float = 0.8
    access_count: int = 0
    last_accessed_at: datetime | None = None
    valid_until: datetime | None = None
    superseded_by: str | None = None
    source_message_ids: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    kind: MemoryKind = MemoryKind.FACT
    slot: str | None = None
    value: str | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


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


class Signals(msgspec.Struct, frozen=True, kw_only=True):
    """One value per ranking signal: its strength in 0..1, the weight it had, or what it added."""

    keyword: float = 0.0
    vector: float = 0.0
    graph: float = 0.0
    reliability: float = 0.0
    recency: float = 0.0
    frequency: float = 0.0
    time: float = 0.0
    neighbour: float = 0.0
    session: float = 0.0
    speaker: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return msgspec.structs.asdict(self)


class Scores(msgspec.Struct, frozen=True, kw_only=True):
    """Each signal in 0..1, the weight it had, and what it added to the score."""

    signals: Signals
    weights: Signals
    contributions: Signals
    total: float


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    memory: Memory
    score: float
    match_types: list[str]
    scores: Scores


class SearchResponse(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    results: list[SearchResult]
    strategies: list[StrategyOutcome]
    degraded: bool


class ChangeKind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SUPERSEDE = "supersede"
    DELETE = "delete"


class MemoryChange(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    memory_id: str
    user_id: str
    kind: ChangeKind
    at: datetime
    content_before: str | None = None
    content_after: str | None = None
    superseded_by: str | None = None


class HistoryResponse(msgspec.Struct, frozen=True, kw_only=True):
    memory_id: str
    changes: list[MemoryChange]


class ProfileView(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    display_name: str | None
    preferences: dict[str, str]
    memories: list[Memory]
    updated_at: str | None


class Conversation(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    user_id: str
    created_at: datetime
    updated_at: datetime
    title: str | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class ConversationPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Conversation]
    limit: int
    offset: int


class Role(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


class Message(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    conversation_id: str
    user_id: str
    role: Role
    content: str
    created_at: datetime
    name: str | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class MessagePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Message]


class SendMessage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    content: str
    message_id: str | None = None
    name: str | None = None


# ------------------------------------------------------------------ the events of a streamed chat turn


class ContextMemory(msgspec.Struct, frozen=True, kw_only=True):
    ref: int
    id: str
    type: MemoryType
    content: str
    score: float
    tokens: int
    match_types: list[str] = msgspec.field(default_factory=list)
    breakdown: Signals = Signals()
    relevant: bool = False


class StrategyOutcome(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    status: str
    hits: int
    duration_ms: float
    error: str | None = None


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    input_tokens: int = 0
    output_tokens: int = 0


class ConversationEvent(msgspec.Struct, frozen=True, kw_only=True, tag="conversation", tag_field="event"):
    """First: the conversation (new or continued) and the stored user message's id."""

    id: str
    created: bool
    user_message_id: str


class ContextEvent(msgspec.Struct, frozen=True, kw_only=True, tag="context", tag_field="event"):
    """The memories the answer is grounded in, with their scores and token counts."""

    memories: list[ContextMemory]
    tokens_by_section: dict[str, int]
    total_tokens: int
    intent: str
    strategies: list[StrategyOutcome]


class TokenEvent(msgspec.Struct, frozen=True, kw_only=True, tag="token", tag_field="event"):
    """A piece of the answer."""

    delta: str


class DoneEvent(msgspec.Struct, frozen=True, kw_only=True, tag="done", tag_field="event"):
    """Last on success: the stored answer's id, token usage and phase timings (ms)."""

    message_id: str
    user_message_id: str
    conversation_id: str
    usage: Usage
    phase_timings: dict[str, float]


class ErrorEvent(msgspec.Struct, frozen=True, kw_only=True, tag="error", tag_field="event"):
    """Last on failure; the user message is stored, so sending its id again retries the turn."""

    code: str
    message: str
    user_message_id: str | None = None
    retryable: bool = True


ChatEvent = ConversationEvent | ContextEvent | TokenEvent | DoneEvent | ErrorEvent


class TranscriptImport(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The import route's body: messages as the route takes them (role, content, created_at, name?, id?, metadata?)."""

    messages: list[dict[str, Any]]
    title: str | None = None
    conversation_id: str | None = None


class ExtractionStatus(msgspec.Struct, frozen=True, kw_only=True):
    pending: int
    finished: bool


class ImportResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an import stored: the conversation and the message ids in the order given, with counts."""

    conversation_id: str
    message_ids: list[str]
    messages: int
    turn_memories: int
    extraction_batches: int
    extraction: ExtractionStatus


class ConversationDetail(msgspec.Struct, frozen=True, kw_only=True):
    conversation: Conversation
    messages: list[Message]
    extraction: ExtractionStatus
