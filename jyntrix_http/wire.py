"""The domain's structs as the API sends them: each converted into its jyntrix_client twin at the HTTP edge.

The client owns the shapes on the wire (jyntrix_client.model, .scores, .chat_events, .types), and the
routes return them; the domain keeps its own model with its rules. `to_wire` copies a domain struct into
its twin attribute by attribute, nested structs and enums included; a property under the wire's name
serves a field the domain names otherwise (ContextItem.id) or derives. A field the domain has and the twin
lacks is not sent. TWINS lists every pair and tests/http/test_wire_twins.py holds each pair to one
shape, so a field added on one side alone fails a test: adding a field to the API is a field on the
domain struct and one line on its twin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec

from jyntrix_client import types as wire
from jyntrix_domain import account_export, chat_events, model, prompts, signals
from jyntrix_domain.forgetting import ForgetResult
from jyntrix_domain.ranking import RankedMemory

T = TypeVar("T")

# Every domain struct the API sends, with the client's struct it goes out as. A struct nested in one of
# these (a Memory's Relation, a ContextItem's Signals) is compared and converted as part of its parent.
TWINS: dict[type[msgspec.Struct], type[msgspec.Struct]] = {
    model.Memory: wire.Memory,
    model.MemoryChange: wire.MemoryChange,
    model.Conversation: wire.Conversation,
    model.Message: wire.Message,
    model.TranscriptImportResult: wire.TranscriptImportResult,
    prompts.ContextItem: wire.ContextItem,
    signals.ScoreBreakdown: wire.ScoreBreakdown,
    chat_events.ConversationEvent: wire.ConversationEvent,
    chat_events.ContextEvent: wire.ContextEvent,
    chat_events.TokenEvent: wire.TokenEvent,
    chat_events.DoneEvent: wire.DoneEvent,
    chat_events.ErrorEvent: wire.ErrorEvent,
    account_export.AccountExport: wire.AccountExport,
    account_export.RestoreReport: wire.RestoreReport,
    ForgetResult: wire.ForgetResult,
}


def to_wire(value: object, kind: type[T]) -> T:
    """`value` (a domain struct) as the wire struct `kind`."""
    return msgspec.convert(value, kind, from_attributes=True)


def to_wire_all(values: Iterable[object], kind: type[T]) -> list[T]:
    """Each of `values` as the wire struct `kind`."""
    return [to_wire(value, kind) for value in values]


def chat_event(event: chat_events.ChatEvent) -> wire.ChatEvent:
    """A chat turn's event as the stream sends it."""
    twin: Any = TWINS[type(event)]
    converted: wire.ChatEvent = to_wire(event, twin)
    return converted


def search_result(ranked: RankedMemory) -> wire.SearchResult:
    """A ranked memory as search answers it: the memory, its score, how it matched, the score's breakdown, and
    whether it was current at the time searched (with its span when it had ended)."""
    memory = ranked.memory
    return wire.SearchResult(
        memory=to_wire(memory, wire.Memory),
        score=ranked.score,
        match_types=sorted(ranked.match_types),
        scores=to_wire(ranked.breakdown, wire.ScoreBreakdown),
        current=ranked.current,
        valid_from=memory.valid_from,
        valid_until=None if ranked.current else memory.valid_until,
    )
