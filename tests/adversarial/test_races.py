"""Races: concurrent requests on one user's data end in one consistent state, on both profiles.

Each test sends a bounded number of requests at once, through the app's own event loop, and then
checks what the store and the indexes hold; nothing here measures time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.adversarial.conftest import SyncClient
from tests.http.conftest import bearer

Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def at_once(api: SyncClient, sends: list[Send]) -> list[httpx.Response]:
    """Run every request concurrently against the app, on the loop its resources live on."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return list(await asyncio.gather(*(send(client) for send in sends)))

    return api.blocking_portal.call(run)


def new_user() -> dict[str, str]:
    return bearer(f"racer-{uuid.uuid4()}")


def created(api: SyncClient, headers: dict[str, str], content: str) -> dict[str, Any]:
    response = api.post("/api/memories", json={"content": content}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_concurrent_supersedes_of_one_memory_let_exactly_one_win(api: SyncClient) -> None:
    headers = new_user()
    old = created(api, headers, "The codeword is alpha")

    def supersede(i: int) -> Send:
        body = {"content": f"The codeword is number{i}"}
        return lambda c: c.post(f"/api/memories/{old['id']}/supersede", json=body, headers=headers)

    responses = at_once(api, [supersede(i) for i in range(10)])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 201)
    current = api.get("/api/memories", headers=headers).json()["items"]
    assert [m["id"] for m in current] == [winner["id"]]
    changes = api.get(f"/api/memories/{old['id']}/history", headers=headers).json()["changes"]
    supersedes = [c for c in changes if c["kind"] == "supersede"]
    assert [c["superseded_by"] for c in supersedes] == [winner["id"]]
    assert api.get(f"/api/memories/{old['id']}", headers=headers).json()["superseded_by"] == winner["id"]


def patch(path: str, content: str, headers: dict[str, str]) -> Send:
    return lambda c: c.patch(path, json={"content": content}, headers=headers)


def test_concurrent_patches_leave_the_keyword_index_with_the_stored_content(api: SyncClient) -> None:
    words = ["alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    for _ in range(3):
        headers = new_user()
        memory = created(api, headers, "codeword zulu")

        path = f"/api/memories/{memory['id']}"
        responses = at_once(api, [patch(path, f"codeword {w}", headers) for w in words])
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        stored = api.get(f"/api/memories/{memory['id']}", headers=headers).json()["content"]
        final = stored.split()[-1]
        for word in [*words, "zulu"]:
            found = api.post("/api/memories/search", json={"query": word}, headers=headers).json()
            by_keyword = [r["memory"]["id"] for r in found["results"] if "keyword" in r["match_types"]]
            assert (memory["id"] in by_keyword) == (word == final), (word, stored, found)
