"""The events of a streamed chat turn, as the SSE stream sends them and the client decodes them."""

from __future__ import annotations

import msgspec

from jyntrix_domain.model import StrategyOutcome
from jyntrix_domain.prompts import ContextItem, Usage


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
