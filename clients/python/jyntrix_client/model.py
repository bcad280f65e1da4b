"""What the API answers with: memories, their history, conversations and messages, as they go over the wire.

The server keeps a model of its own (jyntrix_domain) and converts it into these structs at its HTTP edge,
so these are the API's shapes, written once: the server's routes return them and the client decodes them.
A field the API adds is one line here (with its default, when older servers leave it out).
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
    """A message as said (turn), a fact drawn from messages, or a summary of a session."""

    TURN = "turn"
    FACT = "fact"
    SUMMARY = "summary"


class Relation(msgspec.Struct, frozen=True, kw_only=True):
    """A graph edge a memory asserts, such as (user, sister, Maya)."""

    source: str
    predicate: str
    target: str
    memory_id: str | None = None


class Role(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """Where a memory was said: its conversation, its message, who said it (role, and speaker when named), and
    the remembered turns around it (`follows`, `precedes`; `before` is what the turn before said)."""

    conversation_id: str
    message_id: str | None = None
    role: Role = Role.USER
    speaker: str | None = None
    follows: str | None = None
    precedes: str | None = None
    before: str | None = None


class Origin(msgspec.Struct, frozen=True, kw_only=True):
    """How a memory came to be: the extractor that drew it from messages, and its batch."""

    extractor: str | None = None
    batch: str | None = None


class Period(msgspec.Struct, frozen=True, kw_only=True):
    """A stretch of time, `start` inclusive and `end` exclusive: a day, a month, a year as said."""

    start: datetime
    end: datetime


class Memory(msgspec.Struct, frozen=True, kw_only=True):
    """One remembered thing. `current` says whether it is true now: it ended (`valid_until`, and
    `superseded_by` naming what replaced it) when a newer one replaced it, and stays as history.

    `kind` says what it is: a turn (what was said, with its `place`), a fact drawn from turns (`origin`), or a
    summary. `slot` names a fact with one current value per user and `value` is that value; `occurred` is when
    what it tells of happened; `metadata` is the caller's own annotations.
    """

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
    place: Place | None = None
    origin: Origin | None = None
    occurred: Period | None = None
    metadata: dict[str, Any] = {}
    current: bool = True


class ChangeKind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SUPERSEDE = "supersede"
    DELETE = "delete"


class MemoryChange(msgspec.Struct, frozen=True, kw_only=True):
    """One row of a memory's history."""

    id: str
    memory_id: str
    user_id: str
    kind: ChangeKind
    at: datetime
    content_before: str | None = None
    content_after: str | None = None
    superseded_by: str | None = None


class Entity(msgspec.Struct, frozen=True, kw_only=True):
    """A named thing in the user's world."""

    name: str
    kind: str = "thing"


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """The stored profile: display name and preferences."""

    user_id: str
    updated_at: datetime
    display_name: str | None = None
    preferences: dict[str, str] = {}


class Conversation(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    user_id: str
    created_at: datetime
    updated_at: datetime
    title: str | None = None
    metadata: dict[str, Any] = {}


class Message(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    conversation_id: str
    user_id: str
    role: Role
    content: str
    created_at: datetime
    # Who said it, when the user's side of the conversation is more than one person (a transcript).
    name: str | None = None
    metadata: dict[str, Any] = {}


class ExtractionStatus(msgspec.Struct, frozen=True, kw_only=True):
    """How far background extraction of a conversation has come: `finished` once nothing is pending."""

    pending: int
    finished: bool


class TranscriptImportResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an import stored: the conversation, the message ids in the order given, and counts."""

    conversation_id: str
    message_ids: list[str]
    messages: int
    turn_memories: int
    extraction_batches: int
    extraction: ExtractionStatus


class StrategyOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One retrieval strategy's part in a search: its status (ok, error, timeout), hits and time."""

    name: str
    status: str
    hits: int
    duration_ms: float
    error: str | None = None


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    input_tokens: int = 0
    output_tokens: int = 0


class ForgetResult(msgspec.Struct, frozen=True, kw_only=True):
    """What "forget everything" removed."""

    memories: int
    conversations: int


class ImportOutcome(enum.StrEnum):
    """What a bulk import did with one item."""

    CREATED = "created"
    UNCHANGED = "unchanged"
    CONFLICTING = "conflicting"
    DUPLICATE = "duplicate"
