"""The asynchronous client: the same calls as Client, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx
import msgspec

from jyntrix_client import calls
from jyntrix_client.calls import Call, RetryPolicy, SSEDecoder, problem_of
from jyntrix_client.client import DEFAULT_TIMEOUT, auth_headers
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


class AsyncClient:
    """Jyntrix over HTTP, for asyncio. `async with AsyncClient(base_url, token) as jx: await jx.remember("...")`."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._headers = auth_headers(token)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _request_headers(self, call: Call[Any]) -> dict[str, str]:
        return {**self._headers, "Content-Type": "application/json"} if call.body is not None else self._headers

    async def _run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
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
            await asyncio.sleep(wait)

    async def remember(self, content: str, **fields: Any) -> Remembered:
        """Create a memory; `fields` are MemoryIn's (type, reliability, entities, metadata, created_at, id).

        Content a current memory says already is that memory (`duplicate` true), which gains the new sources."""
        return await self._run(calls.remember(MemoryIn(content=content, **fields)))

    async def get_memory(self, memory_id: str) -> Memory:
        return await self._run(calls.get_memory(memory_id))

    async def list_memories(self, **filters: Any) -> MemoryPage:
        """One page; filters: types, kinds, current_only, contains, created_after, created_before, limit, offset."""
        return await self._run(calls.list_memories(**filters))

    async def iter_memories(self, *, page_size: int = 100, **filters: Any) -> AsyncIterator[Memory]:
        """Every memory matching the filters, newest first, fetched a page at a time."""
        offset = 0
        while True:
            page = await self.list_memories(limit=page_size, offset=offset, **filters)
            for memory in page.items:
                yield memory
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    async def update_memory(self, memory_id: str, **changes: Any) -> Memory:
        return await self._run(calls.update_memory(memory_id, MemoryPatch(**changes)))

    async def supersede(self, memory_id: str, content: str, **fields: Any) -> Memory:
        return await self._run(calls.supersede(memory_id, MemoryIn(content=content, **fields)))

    async def forget(self, memory_id: str) -> None:
        await self._run(calls.forget(memory_id))

    async def history(self, memory_id: str) -> list[MemoryChange]:
        return (await self._run(calls.history(memory_id))).changes

    async def search(
        self, query: str, *, limit: int = 10, types: Sequence[MemoryType] | None = None, **fields: Any
    ) -> SearchResponse:
        request = SearchRequest(query=query, limit=limit, types=list(types) if types else None, **fields)
        return await self._run(calls.search(request))

    async def export(self) -> AccountExport:
        """Everything about the user: memories with history, graph, profile, conversations with messages."""
        return await self._run(calls.export())

    async def restore(self, export: AccountExport) -> RestoreReport:
        """Restore an export (this user's or another's) into this user's account, which holds nothing else;
        running it again adds only what is missing. An account holding other data raises Conflict."""
        return await self._run(calls.restore(export))

    async def profile(self) -> ProfileView:
        return await self._run(calls.profile())

    async def update_profile(
        self, *, display_name: str | None = None, preferences: Mapping[str, str | None] | None = None
    ) -> ProfileView:
        """Change the display name ("" clears it) or preferences (merged key by key; None removes a key)."""
        patch = ProfilePatch(display_name=display_name, preferences=dict(preferences or {}))
        return await self._run(calls.update_profile(patch))

    async def import_memories(self, memories: Sequence[MemoryIn]) -> MemoryImportResult:
        """Import up to 1,000 memories at once, with their own dates and ids (an id imported again is kept)."""
        return await self._run(calls.import_memories(ImportRequest(memories=list(memories))))

    async def forget_all(self, *, confirm: bool) -> ForgetResult:
        """Forget everything about the caller: memories, conversations, profile. Needs `confirm=True`."""
        return await self._run(calls.forget_all(confirm=confirm))

    async def iter_conversations(self, *, page_size: int = 50) -> AsyncIterator[Conversation]:
        offset = 0
        while True:
            page = await self._run(calls.list_conversations(limit=page_size, offset=offset))
            for conversation in page.items:
                yield conversation
            offset += len(page.items)
            if len(page.items) < page_size:
                return

    async def delete_conversation(self, conversation_id: str) -> None:
        """Delete a conversation, its messages and their turn memories (facts drawn from them stay)."""
        await self._run(calls.delete_conversation(conversation_id))

    async def import_transcript(
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
        return await self._run(calls.import_transcript(body))

    async def extraction_status(self, conversation_id: str) -> ExtractionStatus:
        """How far background extraction of the conversation has come (`finished` once nothing is pending)."""
        return (await self._run(calls.conversation(conversation_id, limit=1))).extraction

    async def messages(
        self, conversation_id: str, *, limit: int = 100, before: datetime | None = None, before_id: str | None = None
    ) -> list[Message]:
        """The latest `limit` messages, oldest first; `before_id`, the first message of a page, pages back."""
        call = calls.messages(conversation_id, limit=limit, before=before, before_id=before_id)
        return (await self._run(call)).items

    async def chat(
        self, content: str, *, conversation_id: str | None = None, message_id: str | None = None
    ) -> AsyncIterator[ChatEvent]:
        """A chat turn as typed events, as they arrive (see Client.chat)."""
        call = calls.chat(SendMessage(content=content, message_id=message_id), conversation_id)
        attempt = 0
        while True:
            try:
                async with self._http.stream(
                    call.method, call.path, content=call.content(), headers=self._request_headers(call)
                ) as response:
                    wait = self.retry.delay(response.status_code, response.headers, attempt)
                    if wait is None:
                        if response.status_code >= 400:
                            call.decode(response.status_code, await response.aread(), response.headers)
                        decoder = SSEDecoder()
                        async for line in response.aiter_lines():
                            event = decoder.feed(line)
                            if event is not None:
                                yield event
                        return
            except httpx.HTTPError as exc:
                raise problem_of(exc) from exc
            attempt += 1
            await asyncio.sleep(wait)
