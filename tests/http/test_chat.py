"""Conversations and the streamed chat turn (SSE), on the in_process deployment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from jyntrix_domain.signals import SIGNAL_NAMES
from tests.http.chat_turns import answer_of, overloaded_first_turn, stored_messages, stream_turn
from testsupport.app import Client, drain_tasks, make_settings


async def test_conversation_crud(client: Client, headers: dict[str, str], other_headers: dict[str, str]) -> None:
    created = await client.post("/api/chat/conversations", json={"title": "Trip planning"}, headers=headers)
    assert created.status_code == 201
    conversation = created.json()
    assert conversation["title"] == "Trip planning"
    untitled = (await client.post("/api/chat/conversations", json={}, headers=headers)).json()
    listed = (await client.get("/api/chat/conversations", headers=headers)).json()
    assert {c["id"] for c in listed["items"]} == {conversation["id"], untitled["id"]}
    detail = (await client.get(f"/api/chat/conversations/{conversation['id']}", headers=headers)).json()
    assert detail["conversation"]["id"] == conversation["id"]
    assert detail["messages"] == []
    assert (await client.get(f"/api/chat/conversations/{conversation['id']}", headers=other_headers)).status_code == 404
    deleted = await client.delete(f"/api/chat/conversations/{conversation['id']}", headers=headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/chat/conversations/{conversation['id']}", headers=headers)).status_code == 404
    remaining = (await client.get("/api/chat/conversations", headers=headers)).json()["items"]
    assert [c["id"] for c in remaining] == [untitled["id"]]


async def test_a_turn_streams_its_events_in_order_and_is_stored(client: Client, headers: dict[str, str]) -> None:
    response, events = await stream_turn(client, headers, "Hello there! How are you today?")
    names = [e.event for e in events]
    assert names[0] == "conversation"
    assert names[1] == "context"
    assert names[-1] == "done"
    assert set(names[2:-1]) == {"token"}
    assert len(names) >= 4
    assert [e.id for e in events] == [str(i) for i in range(len(events))]
    conversation = events[0].data
    assert conversation["created"] is True
    done = events[-1].data
    assert done["conversation_id"] == conversation["id"]
    assert done["user_message_id"] == conversation["user_message_id"]
    assert set(done["phase_timings"]) >= {"setup", "query_analysis", "retrieval", "context_building", "llm_streaming"}
    assert response.headers["cache-control"].startswith("no-cache")
    messages = await stored_messages(client, headers, conversation["id"])
    assert [(m["role"], m["id"]) for m in messages] == [
        ("user", conversation["user_message_id"]),
        ("assistant", done["message_id"]),
    ]
    assert messages[1]["content"] == answer_of(events)


async def test_a_turn_in_an_existing_conversation_continues_it(client: Client, headers: dict[str, str]) -> None:
    conversation = (await client.post("/api/chat/conversations", json={}, headers=headers)).json()
    _, first = await stream_turn(client, headers, "I just got back from Japan.", conversation["id"])
    _, second = await stream_turn(client, headers, "It was a great trip.", conversation["id"])
    assert first[0].data["id"] == second[0].data["id"] == conversation["id"]
    assert second[0].data["created"] is False
    page = (await client.get(f"/api/chat/conversations/{conversation['id']}/messages", headers=headers)).json()
    assert [m["role"] for m in page["items"]] == ["user", "assistant", "user", "assistant"]
    limited = await client.get(f"/api/chat/conversations/{conversation['id']}/messages?limit=2", headers=headers)
    assert [m["role"] for m in limited.json()["items"]] == ["user", "assistant"]
    assert limited.json()["items"][0]["content"] == "It was a great trip."


async def test_a_fact_told_in_one_conversation_is_used_and_cited_in_another(
    client: Client, headers: dict[str, str]
) -> None:
    await stream_turn(client, headers, "My sister Maya lives in Lisbon.")
    drain_tasks(client)
    facts = (await client.get("/api/memories", headers=headers)).json()["items"]
    assert any("Maya" in m["content"] and "Lisbon" in m["content"] for m in facts), facts

    _, events = await stream_turn(client, headers, "Where does my sister live?")
    assert events[0].data["created"] is True
    context = events[1].data
    used = [m for m in context["memories"] if "Lisbon" in m["content"]]
    assert used, context
    ref = used[0]["ref"]
    explained = used[0]["scores"]
    assert set(explained) == {"signals", "weights", "contributions", "total", "adjustment", "adjusted_by"}
    assert set(explained["signals"]) == set(SIGNAL_NAMES)
    # The same explanation a search gives: its total is the score shown.
    assert abs(explained["total"] - used[0]["score"]) < 1e-9
    answer = answer_of(events)
    assert "Lisbon" in answer
    assert f"[{ref}]" in answer
    stored = (await client.get(f"/api/memories/{used[0]['id']}", headers=headers)).json()
    assert stored["access_count"] >= 1


async def test_a_failed_turn_keeps_the_message_and_can_be_retried(
    tmp_path: Path, app_factory: Callable[..., Client], headers: dict[str, str]
) -> None:
    model = overloaded_first_turn("All good now.")
    async with app_factory(make_settings(tmp_path), overrides={"llm": model}) as client:
        _, failed = await stream_turn(client, headers, "Tell me a joke", message_id="msg-1")
        assert [e.event for e in failed][-1] == "error"
        error = failed[-1].data
        assert error["code"] == "unavailable"
        assert error["user_message_id"] == "msg-1"
        assert error["retryable"] is True
        conversation_id = failed[0].data["id"]
        messages = await stored_messages(client, headers, conversation_id)
        assert [(m["role"], m["id"]) for m in messages] == [("user", "msg-1")]

        _, retried = await stream_turn(client, headers, "Tell me a joke", conversation_id, message_id="msg-1")
        assert retried[-1].event == "done"
        assert answer_of(retried) == "All good now."
        messages = await stored_messages(client, headers, conversation_id)
    assert [m["role"] for m in messages] == ["user", "assistant"]


async def test_a_user_cannot_stream_into_another_users_conversation(
    client: Client, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    _, events = await stream_turn(client, headers, "A secret: my PIN is 4242.")
    conversation_id = events[0].data["id"]
    response = await client.post(
        f"/api/chat/conversations/{conversation_id}/messages/stream",
        json={"content": "What is the PIN?"},
        headers=other_headers,
    )
    assert response.status_code == 404
    messages = await stored_messages(client, headers, conversation_id)
    assert len(messages) == 2


async def test_a_named_message_is_a_turn_memory_and_search_filters_by_kind(
    client: Client, headers: dict[str, str]
) -> None:
    _, events = await stream_turn(client, headers, "My sister Maya lives in Lisbon.", name="Caroline")
    message_id = events[0].data["user_message_id"]
    drain_tasks(client)
    turns = (await client.get("/api/memories?kind=turn", headers=headers)).json()["items"]
    assert [(t["content"], t["source_message_ids"]) for t in turns] == [
        ("Caroline: My sister Maya lives in Lisbon.", [message_id])
    ]
    message = (await client.get(f"/api/chat/messages/{message_id}", headers=headers)).json()
    assert message["name"] == "Caroline"
    for kind in ("turn", "fact"):
        found = await client.post(
            "/api/memories/search", json={"query": "Maya Lisbon", "kind": [kind]}, headers=headers
        )
        assert found.status_code == 200, found.text
        results = found.json()["results"]
        assert results and {r["memory"]["kind"] for r in results} == {kind}
    bad = await client.post("/api/memories/search", json={"query": "Maya", "kind": ["episode"]}, headers=headers)
    assert bad.status_code == 422


async def test_deleting_a_conversation_forgets_its_turns_but_keeps_its_facts(
    client: Client, headers: dict[str, str]
) -> None:
    _, events = await stream_turn(client, headers, "My sister Maya lives in Lisbon.")
    drain_tasks(client)
    conversation = events[0].data["id"]
    assert (await client.delete(f"/api/chat/conversations/{conversation}", headers=headers)).status_code == 204
    kinds = [m["kind"] for m in (await client.get("/api/memories", headers=headers)).json()["items"]]
    assert kinds and set(kinds) == {"fact"}
