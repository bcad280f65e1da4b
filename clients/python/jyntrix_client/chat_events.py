"""The events of a streamed chat turn, as the SSE stream sends them (the event name is the `event` tag)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from jyntrix_client.model import MemoryKind, MemoryType, Period, Role, StrategyOutcome, Usage
from jyntrix_client.scores import ScoreBreakdown


class ContextItem(msgspec.Struct, frozen=True, kw_only=True):
    """A memory as placed in the prompt, numbered (`ref`) so the answer can cite it, with why it was chosen.

    `current` says whether it was true at the time of the turn; one that ended is history, with its span
    (`valid_from`, `valid_until`), and the prompt marks it as earlier. `occurred` is when what it tells of
    happened; `role` who said it, for a turn.
    """

    ref: int
    id: str
    type: MemoryType
    content: str
    score: float
    tokens: int
    kind: MemoryKind = MemoryKind.FACT
    match_types: tuple[str, ...] = ()
    # The score explained as a search result explains it: signals, weights, contributions, total.
    scores: ScoreBreakdown = msgspec.field(default_factory=ScoreBreakdown.none)
    # Whether retrieval's signals say this memory answers the query.
    relevant: bool = False
    current: bool = True
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    occurred: Period | None = None
    role: Role | None = None


class ConversationEvent(msgspec.Struct, frozen=True, kw_only=True, tag="conversation", tag_field="event"):
    """First: the conversation (new or continued) and the stored user message's id."""

    id: str
    created: bool
    user_message_id: str


class ContextEvent(msgspec.Struct, frozen=True, kw_only=True, tag="context", tag_field="event"):
    """The memories the answer is grounded in, with their scores and token counts."""

    memories: list[ContextItem]
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
