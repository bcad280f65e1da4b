"""POST /api/chat/conversations/import: stored with turn memories, extracted with its own times, idempotent."""

from __future__ import annotations

from typing import Any

import pytest

from jyntrix_domain.transcripts import MAX_TRANSCRIPT_MESSAGES
from testsupport.app import Client, drain_tasks

IMPORT = "/api/chat/conversations/import"


def transcript(n: int = 4, **extra: Any) -> dict[str, Any]:
    said = [
        "I adopted a beagle called Biscuit last week.",
        "That sounds lovely!",
        "My sister Maya lives in Lisbon.",
        "Good to know.",
    ]
    messages = [
        {
            "role": "user" if i % 2 == 0 else "assistant",
            "content": said[i % len(said)] + ("" if i < len(said) else f" ({i})"),
            "created_at": f"2023-05-08T13:{i // 60:02d}:{i % 60:02d}Z",
        }
        for i in range(n)
    ]
    return {"title": "Old chat", "messages": messages, **extra}


async def memories_of(client: Client, headers: dict[str, str], kind: str | None = None) -> list[dict[str, Any]]:
    params = {"limit": 200, **({"kind": kind} if kind else {})}
    response = await client.get("/api/memories", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_an_import_stores_messages_and_turns_then_extracts_with_its_own_time(
    client: Client, headers: dict[str, str]
) -> None:
    body = transcript()
    response = await client.post(IMPORT, json=body, headers=headers)
    assert response.status_code == 201, response.text
    result = response.json()
    assert len(result["message_ids"]) == 4
    # Both sides are what was said: the user's statements and the assistant's answers.
    assert result["turn_memories"] == 4

    detail = (await client.get(f"/api/chat/conversations/{result['conversation_id']}", headers=headers)).json()
    assert [m["id"] for m in detail["messages"]] == result["message_ids"]
    assert [m["content"] for m in detail["messages"]] == [m["content"] for m in body["messages"]]
    turns = await memories_of(client, headers, kind="turn")
    assert sorted(t["content"] for t in turns) == sorted(m["content"] for m in body["messages"])
    assert sorted(t["place"]["role"] for t in turns) == ["assistant", "assistant", "user", "user"]
    assert all(t["created_at"].startswith("2023-05-08") for t in turns)

    drain_tasks(client)
    detail = (await client.get(f"/api/chat/conversations/{result['conversation_id']}", headers=headers)).json()
    assert detail["extraction"] == {"pending": 0, "finished": True}
    facts = [m for m in await memories_of(client, headers) if m["kind"] != "turn"]
    assert any("Lisbon" in f["content"] for f in facts), facts
    # "last week", said on 2023-05-08, is dated by that day, not by today.
    assert all(f["created_at"].startswith("2023-05-08") for f in facts), facts


async def test_a_repeated_import_answers_the_same_ids_and_adds_nothing(client: Client, headers: dict[str, str]) -> None:
    first = (await client.post(IMPORT, json=transcript(), headers=headers)).json()
    drain_tasks(client)
    before = await memories_of(client, headers)
    again = await client.post(IMPORT, json=transcript(), headers=headers)
    assert again.status_code == 201
    assert again.json()["conversation_id"] == first["conversation_id"]
    assert again.json()["message_ids"] == first["message_ids"]
    drain_tasks(client)
    assert sorted(m["id"] for m in await memories_of(client, headers)) == sorted(m["id"] for m in before)
    conversations = (await client.get("/api/chat/conversations", headers=headers)).json()["items"]
    assert [c["id"] for c in conversations] == [first["conversation_id"]]


async def test_client_ids_are_stable_and_a_conversation_id_appends(client: Client, headers: dict[str, str]) -> None:
    body = transcript(2)
    for n, m in enumerate(body["messages"]):
        m["id"] = f"client-{n}"
    first = (await client.post(IMPORT, json=body, headers=headers)).json()
    more = transcript(4)["messages"][2:]
    appended = await client.post(
        IMPORT, json={"conversation_id": first["conversation_id"], "messages": more}, headers=headers
    )
    assert appended.status_code == 201, appended.text
    assert appended.json()["conversation_id"] == first["conversation_id"]
    detail = (await client.get(f"/api/chat/conversations/{first['conversation_id']}", headers=headers)).json()
    assert [m["id"] for m in detail["messages"]] == first["message_ids"] + appended.json()["message_ids"]
    # In the same conversation, the client's id names the message: a changed text keeps its id.
    body["messages"][0]["content"] = "I adopted a beagle called Biscuit."
    body["conversation_id"] = first["conversation_id"]
    assert (await client.post(IMPORT, json=body, headers=headers)).json()["message_ids"] == first["message_ids"]


async def test_an_unknown_or_another_users_conversation_is_404(
    client: Client, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    theirs = (await client.post(IMPORT, json=transcript(2), headers=other_headers)).json()["conversation_id"]
    for conversation_id in (theirs, "no-such-conversation"):
        response = await client.post(IMPORT, json=transcript(2, conversation_id=conversation_id), headers=headers)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await memories_of(client, headers) == []


def _nested(depth: int) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for _ in range(depth):
        nested = {"a": nested}
    return nested


# A bad value in one field of the second message: the field and the value.
_BAD_FIELDS: dict[str, tuple[str, Any]] = {
    "bad role": ("role", "system"),
    "empty content": ("content", "   "),
    "naive time": ("created_at", "2023-05-08T13:56:00"),
    "not a time": ("created_at", "yesterday"),
    "unknown field": ("speaker", "Ann"),
    "blank name": ("name", " "),
    "deep metadata": ("metadata", _nested(40)),
}


def _bad(change: str) -> dict[str, Any]:
    body = transcript(3)
    message = body["messages"][1]
    if change in _BAD_FIELDS:
        field, value = _BAD_FIELDS[change]
        message[field] = value
    elif change == "no messages":
        body["messages"] = []
    elif change == "duplicate client ids":
        body["messages"][0]["id"] = message["id"] = "same"
    elif change == "missing content":
        del message["content"]
    return body


@pytest.mark.parametrize("change", ["no messages", *_BAD_FIELDS, "duplicate client ids", "missing content"])
async def test_bad_input_is_a_4xx_problem_and_stores_nothing(
    client: Client, headers: dict[str, str], change: str
) -> None:
    response = await client.post(IMPORT, json=_bad(change), headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/chat/conversations", headers=headers)).json()["items"] == []
    assert await memories_of(client, headers) == []


async def test_more_than_the_limit_is_refused_and_the_limit_itself_is_accepted(
    client: Client, headers: dict[str, str]
) -> None:
    too_many = await client.post(IMPORT, json=transcript(MAX_TRANSCRIPT_MESSAGES + 1), headers=headers)
    assert too_many.status_code in (413, 422), too_many.text
    assert (await client.get("/api/chat/conversations", headers=headers)).json()["items"] == []
    largest = await client.post(IMPORT, json=transcript(MAX_TRANSCRIPT_MESSAGES), headers=headers)
    assert largest.status_code == 201, largest.text
    assert len(largest.json()["message_ids"]) == MAX_TRANSCRIPT_MESSAGES
    assert len(set(largest.json()["message_ids"])) == MAX_TRANSCRIPT_MESSAGES


async def test_a_chat_turn_is_pending_until_extracted(client: Client, headers: dict[str, str]) -> None:
    response = await client.post(
        "/api/chat/messages/stream", json={"content": "My cat is called Tom."}, headers=headers
    )
    assert response.status_code == 200
    drain_tasks(client)
    conversation_id = (await client.get("/api/chat/conversations", headers=headers)).json()["items"][0]["id"]
    detail = (await client.get(f"/api/chat/conversations/{conversation_id}", headers=headers)).json()
    assert detail["extraction"] == {"pending": 0, "finished": True}
