"""A chat turn against the real server, as its events, for the end-to-end tests."""

from __future__ import annotations

import httpx

from tests.http.sse import Event, iter_events


async def turn(
    client: httpx.AsyncClient, headers: dict[str, str], content: str, conversation_id: str | None = None
) -> list[Event]:
    """One chat turn, in `conversation_id` or else a new conversation, as its events; it must end in `done`."""
    path = (
        f"/api/chat/conversations/{conversation_id}/messages/stream" if conversation_id else "/api/chat/messages/stream"
    )
    async with client.stream("POST", path, json={"content": content}, headers=headers) as r:
        assert r.status_code == 200, await r.aread()
        events = [event async for event in iter_events(r.aiter_text())]
    assert events[-1].event == "done", events[-1]
    return events
