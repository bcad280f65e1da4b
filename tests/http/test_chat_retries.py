"""Retrying a chat turn with its `message_id`: on either route it finishes the one turn, never forks it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jyntrix_domain.errors import Unavailable
from tests.http.conftest import Client, drain_tasks, make_settings
from tests.http.sse import Event, parse_events
from testsupport.scripted_language_model import ScriptedLanguageModel


async def _turn(client: Client, headers: dict[str, str], content: str, **extra: Any) -> list[Event]:
    response = await client.post("/api/chat/messages/stream", json={"content": content, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    return parse_events(response.text)


async def _messages(client: Client, headers: dict[str, str], conversation_id: str) -> list[tuple[str, str]]:
    page = await client.get(f"/api/chat/conversations/{conversation_id}/messages", headers=headers)
    return [(m["role"], m["content"]) for m in page.json()["items"]]


async def test_a_retry_on_the_new_conversation_route_finishes_the_turn_in_its_conversation(
    tmp_path: Path, app_factory: Callable[..., Client], headers: dict[str, str]
) -> None:
    model = ScriptedLanguageModel(["Noted, Lisbon."])
    model.fail_next(error=Unavailable("the model is overloaded"), after_pieces=1)
    async with app_factory(make_settings(tmp_path), overrides={"llm": model}) as client:
        failed = await _turn(client, headers, "I live in Lisbon.", message_id="msg-lisbon")
        assert failed[-1].event == "error"
        conversation_id = failed[0].data["id"]

        retried = await _turn(client, headers, "I live in Lisbon.", message_id="msg-lisbon")
        assert retried[-1].event == "done", retried
        assert (retried[0].data["id"], retried[0].data["created"]) == (conversation_id, False)
        assert retried[-1].data["conversation_id"] == conversation_id
        conversations = (await client.get("/api/chat/conversations", headers=headers)).json()
        assert [c["id"] for c in conversations["items"]] == [conversation_id]
        assert await _messages(client, headers, conversation_id) == [
            ("user", "I live in Lisbon."),
            ("assistant", "Noted, Lisbon."),
        ]
        drain_tasks(client)
        memories = (await client.get("/api/memories?kind=fact", headers=headers)).json()["items"]
        assert any("Lisbon" in m["content"] for m in memories), memories


async def test_a_retry_after_a_successful_turn_replays_its_answer_without_storing_another(
    tmp_path: Path, app_factory: Callable[..., Client], headers: dict[str, str]
) -> None:
    model = ScriptedLanguageModel(["First answer.", "Second answer."])
    async with app_factory(make_settings(tmp_path), overrides={"llm": model}) as client:
        first = await _turn(client, headers, "Tell me a joke", message_id="msg-joke")
        assert first[-1].event == "done"
        conversation_id = first[0].data["id"]

        again = await _turn(client, headers, "Tell me a joke", message_id="msg-joke")
        assert again[-1].event == "done", again
        assert again[-1].data["message_id"] == first[-1].data["message_id"]
        assert again[0].data["id"] == conversation_id
        assert "".join(e.data["delta"] for e in again if e.event == "token") == "First answer."
        assert await _messages(client, headers, conversation_id) == [
            ("user", "Tell me a joke"),
            ("assistant", "First answer."),
        ]
