"""The asynchronous client: the same calls as Client, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import httpx

from jyntrix_client import calls
from jyntrix_client.api import Api
from jyntrix_client.calls import Call, SSEDecoder, problem_of
from jyntrix_client.types import ChatEvent, Conversation, Memory

T = TypeVar("T")


class AsyncClient(Api[httpx.AsyncClient]):
    """Jyntrix over HTTP, for asyncio. `async with AsyncClient(base_url, token) as jx: await jx.remember("...")`."""

    _http_class = httpx.AsyncClient

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, call: Call[Any], *, stream: bool = False) -> httpx.Response:
        """The answer to `call` once no retry is due; with `stream` its body is left for the caller, who closes it."""
        request = self._http.build_request(**self._request(call))
        attempt = 0
        while True:
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.HTTPError as exc:
                raise problem_of(exc) from exc
            wait = self.retry.delay(response.status_code, response.headers, attempt)
            if wait is None:
                return response
            await response.aclose()
            attempt += 1
            await asyncio.sleep(wait)

    async def _run(self, call: Call[T]) -> T:
        response = await self._send(call)
        return call.decode(response.status_code, response.content, response.headers)

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

    async def iter_conversations(self, *, page_size: int = 50) -> AsyncIterator[Conversation]:
        """Every conversation, most recently active first."""
        offset = 0
        while True:
            page = await self._run(calls.list_conversations(limit=page_size, offset=offset))
            for conversation in page.items:
                yield conversation
            offset += len(page.items)
            if len(page.items) < page_size:
                return

    async def chat(
        self, content: str, *, conversation_id: str | None = None, message_id: str | None = None
    ) -> AsyncIterator[ChatEvent]:
        """A chat turn as typed events, as they arrive (see Client.chat)."""
        call = calls.chat(content, conversation_id=conversation_id, message_id=message_id)
        response = await self._send(call, stream=True)
        try:
            if response.status_code >= 400:
                call.decode(response.status_code, await response.aread(), response.headers)
            async for event in SSEDecoder().aevents(response.aiter_lines()):
                yield event
        except httpx.HTTPError as exc:
            raise problem_of(exc) from exc
        finally:
            await response.aclose()
