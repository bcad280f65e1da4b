"""The synchronous client."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx
import msgspec

from jyntrix_client import calls
from jyntrix_client.calls import Call, RetryPolicy, SSEDecoder, problem_of
from jyntrix_client.types import (
    AccountExport,
    ChatEvent,
    Conversation,
    ExtractionStatus,
    ForgetResult,
    ImportRequest,
    Memory,
    MemoryChange,
    MemoryImportResult,
    MemoryIn,
    MemoryPage,
    MemoryPatch,
    MemoryType,
    Message,
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

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=120.0)


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class Client:
    """Jyntrix over HTTP, blocking. `with Client(base_url, token) as jx: jx.remember("...")`.

    Every error answer raises a JyntrixError subclass (code, status, request_id); 429 and 503 are retried
    after Retry-After within `retry`.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        http: httpx.Client | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._headers = auth_headers(token)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request_headers(self, call: Call[Any]) -> dict[str, str]:
        return {**self._headers, "Content-Type": "application/json"} if call.body is not None else self._headers

    def _run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method,
                    call.path,
                    params=call.query(),
                    content=call.content(),
                    headers=self._request_headers(call),
                )
            except httpx.HTTPError as exc:
                raise problem_of(exc) from exc
            wait = self.retry.delay(response.status_code, response.headers, attempt)
            if wait is None:
                return call.decode(response.status_code, response.content, response.headers)
            attempt += 1
            time.sleep(wait)

    # ---------------------------------------------------------------- memories

    def remember(self, content: str, **fields: Any) -> Remembered:
        """Create a memory; `fields` are MemoryIn's (type, reliability, entities, metadata, created_at, id).

        Content a current memory says already is that memory (`duplicate` true), which gains the new sources."""
        return self._run(calls.remember(MemoryIn(content=content, **fields)))

    def get_memory(self, memory_id: str) -> Memory:
        return self._run(calls.get_memory(memory_id))

    def list_memories(self, **filters: Any) -> MemoryPage:
        """One page; filters: types, kinds, current_only, contains, created_after, created_before, limit, offset."""
        return self._run(calls.list_memories(**filters))

    def iter_memories(self, *, page_size: int = 100, **filters: Any) -> Iterator[Memory]:
        """Every memory matching the filters, newest first, fetched a page at a time."""
        offset = 0
        while True:
            page = self.list_memories(limit=page_size, offset=offset, **filters)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def update_memory(self, memory_id: str, **changes: Any) -> Memory:
        """Change content, type, reliability, entities or metadata (recorded in the memory's history)."""
        return self._run(calls.update_memory(memory_id, MemoryPatch(**changes)))

    def supersede(self, memory_id: str, content: str, **fields: Any) -> Memory:
        """Replace a fact with a newer one; the old one stays, closed, in history."""
        return self._run(calls.supersede(memory_id, MemoryIn(content=content, **fields)))

    def forget(self, memory_id: str) -> None:
        """Delete one memory."""
        self._run(calls.forget(memory_id))

    def history(self, memory_id: str) -> list[MemoryChange]:
        return self._run(calls.history(memory_id)).changes

    def search(
        self, query: str, *, limit: int = 10, types: Sequence[MemoryType] | None = None, **fields: Any
    ) -> SearchResponse:
        """Hybrid search; each result carries its per-signal scores. `fields`: SearchRequest's kind, as_of."""
        request = SearchRequest(query=query, limit=limit, types=list(types) if types else None, **fields)
        return self._run(calls.search(request))

    def restore(self, export: AccountExport) -> RestoreReport:
        """Restore an export (this user's or another's) into this user's account, which holds nothing else;
        running it again adds only what is missing. An account holding other data raises Conflict."""
        return self._run(calls.restore(export))

    def profile(self) -> ProfileView:
        return self._run(calls.profile())

    def update_profile(
        self, *, display_name: str | None = None, preferences: Mapping[str, str | None] | None = None
    ) -> ProfileView:
        """Change the display name ("" clears it) or preferences (merged key by key; None removes a key)."""
        patch = ProfilePatch(display_name=display_name, preferences=dict(preferences or {}))
        return self._run(calls.update_profile(patch))

    def import_memories(self, memories: Sequence[MemoryIn]) -> MemoryImportResult:
        """Import up to 1,000 memories at once, with their own dates and ids (an id imported again is kept)."""
        return self._run(calls.import_memories(ImportRequest(memories=list(memories))))

    def export(self) -> AccountExport:
        """Everything remembered about the caller, as one document."""
        return self._run(calls.export())

    def forget_all(self, *, confirm: bool) -> ForgetResult:
        """Forget everything about the caller: memories, conversations, profile. Needs `confirm=True`."""
        return self._run(calls.forget_all(confirm=confirm))

    # ---------------------------------------------------------------- chat

    def iter_conversations(self, *, page_size: int = 50) -> Iterator[Conversation]:
        """Every conversation, most recently active first."""
        offset = 0
        while True:
            page = self._run(calls.list_conversations(limit=page_size, offset=offset))
            yield from page.items
            offset += len(page.items)
            if len(page.items) < page_size:
                return

    def delete_conversation(self, conversation_id: str) -> None:
        """Delete a conversation, its messages and their turn memories (facts drawn from them stay)."""
        self._run(calls.delete_conversation(conversation_id))

    def import_transcript(
        self,
        messages: Sequence[Mapping[str, Any] | msgspec.Struct],
        *,
        title: str | None = None,
        conversation_id: str | None = None,
    ) -> TranscriptImportResult:
        """Import up to 1,000 messages (role, content, created_at, name?, id?, metadata?) as one conversation,
        or append them to `conversation_id`; a repeated import answers the same ids and adds nothing."""
        body = TranscriptImport(
            messages=[msgspec.to_builtins(m) for m in messages], title=title, conversation_id=conversation_id
        )
        return self._run(calls.import_transcript(body))

    def extraction_status(self, conversation_id: str) -> ExtractionStatus:
        """How far background extraction of the conversation has come (`finished` once nothing is pending)."""
        return (self._run(calls.conversation(conversation_id, limit=1))).extraction

    def messages(
        self, conversation_id: str, *, limit: int = 100, before: datetime | None = None, before_id: str | None = None
    ) -> list[Message]:
        """The latest `limit` messages, oldest first; `before_id`, the first message of a page, pages back."""
        return self._run(calls.messages(conversation_id, limit=limit, before=before, before_id=before_id)).items

    def chat(
        self, content: str, *, conversation_id: str | None = None, message_id: str | None = None
    ) -> Iterator[ChatEvent]:
        """A chat turn as typed events, as they arrive: ConversationEvent, ContextEvent, TokenEvent..., DoneEvent
        (or ErrorEvent). An unknown conversation or invalid message raises before the first event."""
        call = calls.chat(SendMessage(content=content, message_id=message_id), conversation_id)
        attempt = 0
        while True:
            try:
                with self._http.stream(
                    call.method, call.path, content=call.content(), headers=self._request_headers(call)
                ) as response:
                    wait = self.retry.delay(response.status_code, response.headers, attempt)
                    if wait is None:
                        if response.status_code >= 400:
                            call.decode(response.status_code, response.read(), response.headers)
                        decoder = SSEDecoder()
                        for line in response.iter_lines():
                            event = decoder.feed(line)
                            if event is not None:
                                yield event
                        return
            except httpx.HTTPError as exc:
                raise problem_of(exc) from exc
            attempt += 1
            time.sleep(wait)
