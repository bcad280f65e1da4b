"""Every message of a conversation can be listed, even when many share a time (issue 23, finding 12).

An import gives messages their own times, and a whole history may carry one. Paging by time alone stops
at such a tie; the `before_id` cursor (the first message of the page you have) reaches every message.
"""

from __future__ import annotations

from typing import Any

from testsupport.app import Client

AT = "2025-02-03T04:05:06Z"


def one_time(n: int) -> dict[str, Any]:
    said = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"message number {i}", "created_at": AT}
        for i in range(n)
    ]
    return {"title": "all at once", "messages": said}


async def imported(client: Client, headers: dict[str, str], n: int) -> dict[str, Any]:
    response = await client.post("/api/chat/conversations/import", json=one_time(n), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_300_messages_of_one_time_are_all_listed_page_by_page(client: Client, headers: dict[str, str]) -> None:
    body = await imported(client, headers, 300)
    path = f"/api/chat/conversations/{body['conversation_id']}/messages"
    listed: list[str] = []
    params: dict[str, Any] = {"limit": 200}
    for _ in range(10):  # bounded: two pages and an empty one are expected
        page = (await client.get(path, params=params, headers=headers)).json()["items"]
        if not page:
            break
        listed = [m["id"] for m in page] + listed
        params = {"limit": 200, "before_id": page[0]["id"]}
    assert listed == body["message_ids"]


async def test_a_cursor_that_is_no_message_of_the_conversation_is_a_422(
    client: Client, headers: dict[str, str]
) -> None:
    first, second = await imported(client, headers, 2), await imported(client, headers, 3)
    path = f"/api/chat/conversations/{first['conversation_id']}/messages"
    for cursor in ("no-such-message", second["message_ids"][0]):
        response = await client.get(path, params={"before_id": cursor}, headers=headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    both = {"before_id": first["message_ids"][1], "before": "2030-01-01T00:00:00Z"}
    assert (await client.get(path, params=both, headers=headers)).status_code == 422


async def test_deleting_a_conversation_of_600_messages_of_one_time_forgets_every_turn(
    client: Client, headers: dict[str, str]
) -> None:
    body = await imported(client, headers, 600)
    turns = {"kind": "turn", "current_only": "false", "limit": 1}
    assert (await client.get("/api/memories", params=turns, headers=headers)).json()["total"] == body["turn_memories"]
    assert body["turn_memories"] >= 300
    response = await client.delete(f"/api/chat/conversations/{body['conversation_id']}", headers=headers)
    assert response.status_code == 204, response.text
    assert (await client.get("/api/memories", params=turns, headers=headers)).json()["total"] == 0
