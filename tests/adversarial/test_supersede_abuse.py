"""Supersede with a successor id that is not new: refused, and nothing changes (issue 23, finding 1).

A successor must be a new memory, or the very successor of a retried identical supersede. Refused: the
memory itself (422), another existing memory (409), and so a loop A -> B -> A (409).
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.adversarial.conftest import SyncClient
from tests.adversarial.served import assert_error_document
from testsupport.app import bearer

ROUTE = "/api/memories/{}/supersede"


def remembered(api: SyncClient, headers: dict[str, str], content: str) -> dict[str, Any]:
    response = api.post("/api/memories", json={"content": content}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def everything(api: SyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get("/api/memories?current_only=false", headers=headers).json()["items"]
    return sorted(items, key=lambda m: m["id"])


def test_a_memory_cannot_supersede_itself(api: SyncClient) -> None:
    headers = bearer(f"succession-{uuid.uuid4()}")
    m = remembered(api, headers, "I live in Paris")
    before = everything(api, headers)
    response = api.post(ROUTE.format(m["id"]), json={"content": "I live in Berlin", "id": m["id"]}, headers=headers)
    assert "itself" in assert_error_document("/api", response, (422,))["detail"]
    assert everything(api, headers) == before
    found = api.post("/api/memories/search", json={"query": "Berlin"}, headers=headers).json()["results"]
    assert [r["memory"]["content"] for r in found] == []


def test_another_existing_memory_cannot_be_the_successor(api: SyncClient) -> None:
    headers = bearer(f"succession-{uuid.uuid4()}")
    m, other = remembered(api, headers, "I live in Paris"), remembered(api, headers, "My cat is Miso")
    before = everything(api, headers)
    response = api.post(ROUTE.format(m["id"]), json={"content": "I live in Berlin", "id": other["id"]}, headers=headers)
    assert_error_document("/api", response, (409,))
    assert everything(api, headers) == before
    assert [c["kind"] for c in api.get(f"/api/memories/{m['id']}/history", headers=headers).json()["changes"]] == [
        "create"
    ]


def test_a_loop_of_successors_is_refused(api: SyncClient) -> None:
    headers = bearer(f"succession-{uuid.uuid4()}")
    a = remembered(api, headers, "I live in Paris")
    b_id = f"b-{uuid.uuid4()}"
    first = api.post(ROUTE.format(a["id"]), json={"content": "I live in Berlin", "id": b_id}, headers=headers)
    assert first.status_code == 201, first.text
    before = everything(api, headers)
    back = api.post(ROUTE.format(b_id), json={"content": "I live in Paris", "id": a["id"]}, headers=headers)
    assert_error_document("/api", back, (409,))
    assert everything(api, headers) == before
    assert [m["id"] for m in api.get("/api/memories", headers=headers).json()["items"]] == [b_id]


def test_a_retried_identical_supersede_answers_its_successor_and_a_changed_retry_is_refused(api: SyncClient) -> None:
    headers = bearer(f"succession-{uuid.uuid4()}")
    a = remembered(api, headers, "I live in Paris")
    body = {"content": "I live in Berlin", "id": f"b-{uuid.uuid4()}"}
    first = api.post(ROUTE.format(a["id"]), json=body, headers=headers)
    again = api.post(ROUTE.format(a["id"]), json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json()
    changed = api.post(ROUTE.format(a["id"]), json={**body, "content": "I live in Rome"}, headers=headers)
    assert_error_document("/api", changed, (409,))
    assert [m["content"] for m in api.get("/api/memories", headers=headers).json()["items"]] == ["I live in Berlin"]
