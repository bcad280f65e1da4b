"""The synchronous client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, TypeVar

import httpx

from jyntrix_client import calls
from jyntrix_client.api import Api
from jyntrix_client.calls import Call, SSEDecoder, problem_of
from jyntrix_client.types import ChatEvent, Conversation, Memory

T = TypeVar("T")


class Client(Api[httpx.Client]):
    """Jyntrix over HTTP, blocking. `with Client(base_url, token) as jx: jx.remember("...")`.

    Every error answer raises a JyntrixError subclass (code, status, request_id); 429 and 503 are retried
    after Retry-After within `retry`.
    """

    _http_class = httpx.Client

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: Call[Any], *, stream: bool = False) -> httpx.Response:
        """The answer to `call` once no retry is due; with `stream` its body is left for the caller, who closes it."""
        request = self._http.build_request(**self._request(call))
        attempt = 0
        while True:
            try:
                response = self._http.send(request, stream=stream)
            except httpx.HTTPError as exc:
                raise problem_of(exc) from exc
            wait = self.retry.delay(response.status_code, response.headers, attempt)
            if wait is None:
                return response
            response.close()
            attempt += 1
            time.sleep(wait)

    def _run(self, call: Call[T]) -> T:
        response = self._send(call)
        return call.decode(response.status_code, response.content, response.headers)

    def iter_memories(self, *, page_size: int = 100, **filters: Any) -> Iterator[Memory]:
        """Every memory matching the filters, newest first, fetched a page at a time."""
        offset = 0
        while True:
            page = self.list_memories(limit=page_size, offset=offset, **filters)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def iter_conversations(self, *, page_size: int = 50) -> Iterator[Conversation]:
        """Every conversation, most recently active first."""
        offset = 0
        while True:
            page = self._run(calls.list_conversations(limit=page_size, offset=offset))
            yield from page.items
            offset += len(page.items)
            if len(page.items) < page_size:
                return

    def chat(
        self, content: str, *, conversation_id: str | None = None, message_id: str | None = None
    ) -> Iterator[ChatEvent]:
        """A chat turn as typed events, as they arrive: ConversationEvent, ContextEvent, TokenEvent..., DoneEvent
        (or ErrorEvent). An unknown conversation or invalid message raises before the first event."""
        call = calls.chat(content, conversation_id=conversation_id, message_id=message_id)
        response = self._send(call, stream=True)
        try:
            if response.status_code >= 400:
                call.decode(response.status_code, response.read(), response.headers)
            yield from SSEDecoder().events(response.iter_lines())
        except httpx.HTTPError as exc:
            raise problem_of(exc) from exc
        finally:
            response.close()
