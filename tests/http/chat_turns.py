"""Chat turns against the app under test: streamed, read back as events, and the stored messages."""

from __future__ import annotations

from typing import Any

from jyntrix_domain.errors import Unavailable
from tests.http.sse import Event, parse_events
from testsupport.app import Client
from testsupport.scripted_language_model import ScriptedLanguageModel


async def stream_turn(
    client: Client, headers: dict[str, str], content: str, conversation_id: str | None = None, **extra: Any
) -> tuple[Any, list[Event]]:
    """One turn, in `conversation_id` or else a new conversation: the response (a 200 event stream) and its events."""
    path = (
        f"/api/chat/conversations/{conversation_id}/messages/stream" if conversation_id else "/api/chat/messages/stream"
    )
    response = await client.post(path, json={"content": content, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return response, parse_events(response.text)


async def failed_first_try(client: Client, headers: dict[str, str], content: str, message_id: str) -> str:
    """A first try in a new conversation that ends in an `error` event (on a model that fails it): its conversation."""
    _, events = await stream_turn(client, headers, content, message_id=message_id)
    assert events[-1].event == "error", events
    conversation_id: str = events[0].data["id"]
    return conversation_id


def answer_of(events: list[Event]) -> str:
    """The streamed answer's text."""
    return "".join(e.data["delta"] for e in events if e.event == "token")


async def stored_messages(client: Client, headers: dict[str, str], conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's stored messages (the first page), oldest first."""
    page = await client.get(f"/api/chat/conversations/{conversation_id}/messages", headers=headers)
    items: list[dict[str, Any]] = page.json()["items"]
    return items


def overloaded_first_turn(*replies: str) -> ScriptedLanguageModel:
    """A scripted model whose first stream breaks after one piece as overloaded (a retryable Unavailable)."""
    model = ScriptedLanguageModel(list(replies))
    model.fail_next(error=Unavailable("the model is overloaded"), after_pieces=1)
    return model
