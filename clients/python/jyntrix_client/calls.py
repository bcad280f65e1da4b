"""Each API call once, as data (method, path, query, body, response type); both clients run these."""

from __future__ import annotations

import email.utils
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import msgspec

from jyntrix_client.errors import JyntrixError, TransportError, error_from_response
from jyntrix_client.types import (
    AccountExport,
    ChatEvent,
    ConversationDetail,
    ConversationPage,
    ForgetResult,
    HistoryResponse,
    ImportRequest,
    Memory,
    MemoryImportResult,
    MemoryIn,
    MemoryKind,
    MemoryPage,
    MemoryPatch,
    MemoryType,
    MessagePage,
    ProfilePatch,
    ProfileView,
    Remembered,
    RestoreReport,
    SearchRequest,
    SearchResponse,
    SendMessage,
    TranscriptImport,
    TranscriptImportResult,
)

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the type its answer decodes to (None for an empty answer)."""

    method: str
    path: str
    response: type[T] | None
    params: dict[str, Any] = field(default_factory=dict)
    body: msgspec.Struct | None = None

    def content(self) -> bytes | None:
        return None if self.body is None else msgspec.json.encode(self.body)

    def query(self) -> list[tuple[str, str | int | float | bool | None]]:
        pairs: list[tuple[str, str | int | float | bool | None]] = []
        for key, value in self.params.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                if item is not None:
                    pairs.append((key, _query_value(item)))
        return pairs

    def decode(self, status: int, body: bytes, headers: Any) -> T:
        if status >= 400:
            raise error_from_response(status, body, headers)
        if self.response is None:
            return None  # type: ignore[return-value]
        try:
            return msgspec.json.decode(body, type=self.response)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise TransportError(f"unreadable answer: {exc}", status=status, code="bad_response") from exc


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class RetryPolicy:
    """429 and 503 are retried after their Retry-After, at most `max_retries` times and never waiting longer
    than `max_wait_s` at once (a longer Retry-After raises at once, with `retry_after_s` set)."""

    max_retries: int = 2
    max_wait_s: float = 30.0
    default_wait_s: float = 1.0

    def delay(self, status: int, headers: Any, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None to give up and raise."""
        if status not in RETRYABLE_STATUSES or attempt >= self.max_retries:
            return None
        wait = retry_after_s(headers.get("retry-after"))
        wait = self.default_wait_s if wait is None else wait
        return wait if wait <= self.max_wait_s else None


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


class SSEDecoder:
    """Server-Sent Events, line by line, into the chat's typed events."""

    _decoder = msgspec.json.Decoder(ChatEvent)

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> ChatEvent | None:
        """Take one line (without its newline); return an event when a blank line completes one."""
        if line == "":
            if not self._data:
                return None
            data, self._data = "\n".join(self._data), []
            try:
                return self._decoder.decode(data)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise TransportError(f"unreadable event: {exc}", status=200, code="bad_event") from exc
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None


def problem_of(exc: BaseException) -> JyntrixError:
    """A transport failure (connection refused, timeout) as a JyntrixError with status 0."""
    return TransportError(f"{type(exc).__name__}: {exc}", status=0, code="transport")


def _p(value: str) -> str:
    return quote(value, safe="")


# ------------------------------------------------------------------ the calls


def remember(memory: MemoryIn) -> Call[Remembered]:
    return Call("POST", "/api/memories", Remembered, body=memory)


def get_memory(memory_id: str) -> Call[Memory]:
    return Call("GET", f"/api/memories/{_p(memory_id)}", Memory)


def list_memories(
    *,
    types: Sequence[MemoryType] | None = None,
    kinds: Sequence[MemoryKind] | None = None,
    current_only: bool = True,
    contains: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Call[MemoryPage]:
    params = {
        "type": [t.value for t in types] if types else None,
        "kind": [k.value for k in kinds] if kinds else None,
        "current_only": current_only,
        "contains": contains,
        "created_after": created_after,
        "created_before": created_before,
        "limit": limit,
        "offset": offset,
    }
    return Call("GET", "/api/memories", MemoryPage, params=params)


def update_memory(memory_id: str, patch: MemoryPatch) -> Call[Memory]:
    return Call("PATCH", f"/api/memories/{_p(memory_id)}", Memory, body=patch)


def supersede(memory_id: str, newer: MemoryIn) -> Call[Memory]:
    return Call("POST", f"/api/memories/{_p(memory_id)}/supersede", Memory, body=newer)


def forget(memory_id: str) -> Call[None]:
    return Call("DELETE", f"/api/memories/{_p(memory_id)}", None)


def history(memory_id: str) -> Call[HistoryResponse]:
    return Call("GET", f"/api/memories/{_p(memory_id)}/history", HistoryResponse)


def search(request: SearchRequest) -> Call[SearchResponse]:
    return Call("POST", "/api/memories/search", SearchResponse, body=request)


def import_memories(request: ImportRequest) -> Call[MemoryImportResult]:
    return Call("POST", "/api/memories/import", MemoryImportResult, body=request)


def export() -> Call[AccountExport]:
    return Call("GET", "/api/memories/export", AccountExport)


def restore(export: AccountExport) -> Call[RestoreReport]:
    return Call("POST", "/api/memories/restore", RestoreReport, body=export)


def forget_all(*, confirm: bool) -> Call[ForgetResult]:
    """Everything about the caller; the server refuses (422) unless `confirm` is true."""
    return Call("DELETE", "/api/memories", ForgetResult, params={"confirm": confirm})


def profile() -> Call[ProfileView]:
    return Call("GET", "/api/profile", ProfileView)


def update_profile(patch: ProfilePatch) -> Call[ProfileView]:
    return Call("PATCH", "/api/profile", ProfileView, body=patch)


def list_conversations(*, limit: int = 50, offset: int = 0) -> Call[ConversationPage]:
    return Call("GET", "/api/chat/conversations", ConversationPage, params={"limit": limit, "offset": offset})


def delete_conversation(conversation_id: str) -> Call[None]:
    return Call("DELETE", f"/api/chat/conversations/{_p(conversation_id)}", None)


def messages(
    conversation_id: str, *, limit: int = 100, before: datetime | None = None, before_id: str | None = None
) -> Call[MessagePage]:
    params = {"limit": limit, "before": before, "before_id": before_id}
    return Call("GET", f"/api/chat/conversations/{_p(conversation_id)}/messages", MessagePage, params=params)


def chat(message: SendMessage, conversation_id: str | None = None) -> Call[None]:
    """The stream's request; its events are read with SSEDecoder."""
    path = (
        "/api/chat/messages/stream"
        if conversation_id is None
        else f"/api/chat/conversations/{_p(conversation_id)}/messages/stream"
    )
    return Call("POST", path, None, body=message)


def import_transcript(transcript: TranscriptImport) -> Call[TranscriptImportResult]:
    return Call("POST", "/api/chat/conversations/import", TranscriptImportResult, body=transcript)


def conversation(conversation_id: str, *, limit: int = 100) -> Call[ConversationDetail]:
    """A conversation with its latest messages and its extraction status."""
    return Call("GET", f"/api/chat/conversations/{_p(conversation_id)}", ConversationDetail, params={"limit": limit})
