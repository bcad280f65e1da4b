"""Retrying a chat turn with its `message_id`: on either route it finishes the one turn, never forks it; the same
id with other words, or on another conversation's route, is a 409 (issue 23, finding 6)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.http.chat_turns import answer_of, failed_first_try, overloaded_first_turn, stored_messages, stream_turn
from testsupport.app import Client, drain_tasks, make_settings
from testsupport.scripted_language_model import ScriptedLanguageModel


async def _messages(client: Client, headers: dict[str, str], conversation_id: str) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in await stored_messages(client, headers, conversation_id)]


async def test_a_retry_on_the_new_conversation_route_finishes_the_turn_in_its_conversation(
    tmp_path: Path, app_factory: Callable[..., Client], headers: dict[str, str]
) -> None:
    model = overloaded_first_turn("Noted, Lisbon.")
    async with app_factory(make_settings(tmp_path), overrides={"llm": model}) as client:
        conversation_id = await failed_first_try(client, headers, "I live in Lisbon.", "msg-lisbon")

        _, retried = await stream_turn(client, headers, "I live in Lisbon.", message_id="msg-lisbon")
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
        _, first = await stream_turn(client, headers, "Tell me a joke", message_id="msg-joke")
        assert first[-1].event == "done"
        conversation_id = first[0].data["id"]

        _, again = await stream_turn(client, headers, "Tell me a joke", message_id="msg-joke")
        assert again[-1].event == "done", again
        assert again[-1].data["message_id"] == first[-1].data["message_id"]
        assert again[0].data["id"] == conversation_id
        assert answer_of(again) == "First answer."
        # The same id saying something else is another message: a 409, never the old answer, on either route.
        changes = [{"content": "Tell me a poem"}, {"content": "Tell me a joke", "name": "Bob"}]
        for change in changes:
            for path in ("/api/chat/messages/stream", f"/api/chat/conversations/{conversation_id}/messages/stream"):
                response = await client.post(path, json={"message_id": "msg-joke", **change}, headers=headers)
                assert response.status_code == 409, (path, change, response.text)
                assert "message_id" in response.json()["detail"]
        assert await _messages(client, headers, conversation_id) == [
            ("user", "Tell me a joke"),
            ("assistant", "First answer."),
        ]
        assert len((await client.get("/api/chat/conversations", headers=headers)).json()["items"]) == 1


async def test_a_retry_on_another_conversations_route_is_a_409_and_stores_nothing_there(
    tmp_path: Path, app_factory: Callable[..., Client], headers: dict[str, str]
) -> None:
    model = overloaded_first_turn("Noted, Lisbon.", "Hello.")
    async with app_factory(make_settings(tmp_path), overrides={"llm": model}) as client:
        first = await failed_first_try(client, headers, "I live in Lisbon.", "msg-moved")
        _, other = await stream_turn(client, headers, "Hi there")
        elsewhere = other[0].data["id"]

        path = f"/api/chat/conversations/{elsewhere}/messages/stream"
        body = {"content": "I live in Lisbon.", "message_id": "msg-moved"}
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert first in response.json()["detail"]
        assert [m["role"] for m in await stored_messages(client, headers, elsewhere)] == ["user", "assistant"]
        assert await _messages(client, headers, first) == [("user", "I live in Lisbon.")]
