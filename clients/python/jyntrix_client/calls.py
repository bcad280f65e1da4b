"""Each API call once, as data (method, path, query, body, how its answer reads); both clients run these.

A builder here takes the arguments the client's method of the same name takes (jyntrix_client.api makes
each one a method of Client and of AsyncClient), so a call's signature, docstring and body are written once.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
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
    ExtractionStatus,
    ForgetResult,
    HistoryResponse,
    ImportRequest,
    Memory,
    MemoryChange,
    MemoryImportResult,
    MemoryIn,
    MemoryKind,
    MemoryPage,
    MemoryPatch,
    MemoryType,
    Message,
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
U = TypeVar("U")

RETRYABLE_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how its answer's body reads (`answer(Memory)`; `no_answer` for an empty one)."""

    method: str
    path: str
    read: Callable[[bytes], T]
    params: dict[str, Any] = field(default_factory=dict)
    body: msgspec.Struct | None = None

    def content(self) -> bytes | None:
        return None if self.body is None else msgspec.json.encode(self.body)

    def headers(self, auth: dict[str, str]) -> dict[str, str]:
        return {**auth, "Content-Type": "application/json"} if self.body is not None else auth

    def query(self) -> list[tuple[str, str | int | float | bool | None]]:
        pairs: list[tuple[str, str | int | float | bool | None]] = []
        for key, value in self.params.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                if item is not None:
                    pairs.append((key, _query_value(item)))
        return pairs

    def then(self, pick: Callable[[T], U]) -> Call[U]:
        """The same request, answering with part of what it reads (a page's items)."""
        read = self.read
        return Call(self.method, self.path, lambda body: pick(read(body)), self.params, self.body)

    def decode(self, status: int, body: bytes, headers: Any) -> T:
        if status >= 400:
            raise error_from_response(status, body, headers)
        try:
            return self.read(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise TransportError(f"unreadable answer: {exc}", status=status, code="bad_response") from exc


def answer(kind: type[T]) -> Callable[[bytes], T]:
    """An answer's body read as JSON of `kind`."""
    decoder = msgspec.json.Decoder(kind)
    return decoder.decode


def no_answer(body: bytes) -> None:
    """An empty answer (204), or one whose body the caller reads otherwise (the chat's stream)."""


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

    def events(self, lines: Iterable[str]) -> Iterator[ChatEvent]:
        """The events of a stream's lines, as each completes (Client.chat)."""
        for line in lines:
            if (event := self.feed(line)) is not None:
                yield event

    async def aevents(self, lines: AsyncIterable[str]) -> AsyncIterator[ChatEvent]:
        """The events of a stream's lines, as each completes (AsyncClient.chat)."""
        async for line in lines:
            if (event := self.feed(line)) is not None:
                yield event


def problem_of(exc: BaseException) -> JyntrixError:
    """A transport failure (connection refused, timeout) as a JyntrixError with status 0."""
    return TransportError(f"{type(exc).__name__}: {exc}", status=0, code="transport")


def _p(value: str) -> str:
    return quote(value, safe="")


# ------------------------------------------------------------------ the calls


def remember(content: str, **fields: Any) -> Call[Remembered]:
    """Create a memory; `fields` are MemoryIn's (type, reliability, entities, metadata, created_at, id).

    Content a current memory says already is that memory (`duplicate` true), which gains the new sources."""
    return Call("POST", "/api/memories", answer(Remembered), body=MemoryIn(content=content, **fields))


def get_memory(memory_id: str) -> Call[Memory]:
    return Call("GET", f"/api/memories/{_p(memory_id)}", answer(Memory))


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
    """One page, newest first."""
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
    return Call("GET", "/api/memories", answer(MemoryPage), params=params)


def update_memory(memory_id: str, **changes: Any) -> Call[Memory]:
    """Change content, type, reliability, entities or metadata (recorded in the memory's history)."""
    return Call("PATCH", f"/api/memories/{_p(memory_id)}", answer(Memory), body=MemoryPatch(**changes))


def supersede(memory_id: str, content: str, **fields: Any) -> Call[Memory]:
    """Replace a fact with a newer one; the old one stays, closed, in history."""
    newer = MemoryIn(content=content, **fields)
    return Call("POST", f"/api/memories/{_p(memory_id)}/supersede", answer(Memory), body=newer)


def forget(memory_id: str) -> Call[None]:
    """Delete one memory."""
    return Call("DELETE", f"/api/memories/{_p(memory_id)}", no_answer)


def history(memory_id: str) -> Call[list[MemoryChange]]:
    """Every change to a memory, oldest first."""
    call = Call("GET", f"/api/memories/{_p(memory_id)}/history", answer(HistoryResponse))
    return call.then(lambda found: found.changes)


def search(
    query: str, *, limit: int = 10, types: Sequence[MemoryType] | None = None, **fields: Any
) -> Call[SearchResponse]:
    """Hybrid search; each result carries its per-signal scores. `fields`: SearchRequest's kind, as_of."""
    request = SearchRequest(query=query, limit=limit, types=list(types) if types else None, **fields)
    return Call("POST", "/api/memories/search", answer(SearchResponse), body=request)


def import_memories(memories: Sequence[MemoryIn]) -> Call[MemoryImportResult]:
    """Import up to 1,000 memories at once, with their own dates and ids (an id imported again is kept)."""
    request = ImportRequest(memories=list(memories))
    return Call("POST", "/api/memories/import", answer(MemoryImportResult), body=request)


def export() -> Call[AccountExport]:
    """Everything about the user: memories with history, graph, profile, conversations with messages."""
    return Call("GET", "/api/memories/export", answer(AccountExport))


def restore(export: AccountExport) -> Call[RestoreReport]:
    """Restore an export (this user's or another's) into this user's account, which holds nothing else;
    running it again adds only what is missing. An account holding other data raises Conflict."""
    return Call("POST", "/api/memories/restore", answer(RestoreReport), body=export)


def forget_all(*, confirm: bool) -> Call[ForgetResult]:
    """Forget everything about the caller: memories, conversations, profile. Needs `confirm=True`."""
    return Call("DELETE", "/api/memories", answer(ForgetResult), params={"confirm": confirm})


def profile() -> Call[ProfileView]:
    return Call("GET", "/api/profile", answer(ProfileView))


def update_profile(
    *, display_name: str | None = None, preferences: Mapping[str, str | None] | None = None
) -> Call[ProfileView]:
    """Change the display name ("" clears it) or preferences (merged key by key; None removes a key)."""
    patch = ProfilePatch(display_name=display_name, preferences=dict(preferences or {}))
    return Call("PATCH", "/api/profile", answer(ProfileView), body=patch)


def list_conversations(*, limit: int = 50, offset: int = 0) -> Call[ConversationPage]:
    params = {"limit": limit, "offset": offset}
    return Call("GET", "/api/chat/conversations", answer(ConversationPage), params=params)


def delete_conversation(conversation_id: str) -> Call[None]:
    """Delete a conversation, its messages and their turn memories (facts drawn from them stay)."""
    return Call("DELETE", f"/api/chat/conversations/{_p(conversation_id)}", no_answer)


def import_transcript(
    messages: Sequence[Mapping[str, Any] | msgspec.Struct],
    *,
    title: str | None = None,
    conversation_id: str | None = None,
) -> Call[TranscriptImportResult]:
    """Import up to 1,000 messages (role, content, created_at, name?, id?, metadata?) as one conversation,
    or append them to `conversation_id`; a repeated import answers the same ids and adds nothing."""
    body = TranscriptImport(
        messages=[msgspec.to_builtins(m) for m in messages], title=title, conversation_id=conversation_id
    )
    return Call("POST", "/api/chat/conversations/import", answer(TranscriptImportResult), body=body)


def extraction_status(conversation_id: str) -> Call[ExtractionStatus]:
    """How far background extraction of the conversation has come (`finished` once nothing is pending)."""
    path = f"/api/chat/conversations/{_p(conversation_id)}"
    call = Call("GET", path, answer(ConversationDetail), params={"limit": 1})
    return call.then(lambda detail: detail.extraction)


def messages(
    conversation_id: str, *, limit: int = 100, before: datetime | None = None, before_id: str | None = None
) -> Call[list[Message]]:
    """The latest `limit` messages, oldest first; `before_id`, the first message of a page, pages back."""
    params = {"limit": limit, "before": before, "before_id": before_id}
    path = f"/api/chat/conversations/{_p(conversation_id)}/messages"
    return Call("GET", path, answer(MessagePage), params=params).then(lambda page: page.items)


def chat(content: str, *, conversation_id: str | None = None, message_id: str | None = None) -> Call[None]:
    """The stream's request; its events are read with SSEDecoder."""
    path = (
        "/api/chat/messages/stream"
        if conversation_id is None
        else f"/api/chat/conversations/{_p(conversation_id)}/messages/stream"
    )
    return Call("POST", path, no_answer, body=SendMessage(content=content, message_id=message_id))
