"""Races: concurrent requests on one user's data end in one consistent state, on both profiles.

Each test sends a bounded number of requests at once, through the app's own event loop, and then
checks what the store and the indexes hold; nothing here measures time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from jyntrix_bootstrap.settings import DeploymentProfile
from jyntrix_domain.model import Chunk, Prompt
from jyntrix_http.app import create_app
from tests.adversarial.conftest import SyncClient, drain, sse_events
from tests.adversarial.served import adversarial_settings
from tests.http.conftest import bearer, in_process_overrides, services_of
from testsupport.scripted_language_model import ScriptedLanguageModel

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


class GatedModel(ScriptedLanguageModel):
    """Streams its first piece, then waits for `release` before the rest: a turn held in flight."""

    def __init__(self) -> None:
        super().__init__(["The answer comes in several pieces here."])
        self.streaming = asyncio.Event()
        self.release = asyncio.Event()

    async def stream(self, prompt: Prompt) -> AsyncIterator[Chunk]:
        async for n, chunk in _numbered(super().stream(prompt)):
            yield chunk
            if n == 0:
                self.streaming.set()
                await self.release.wait()


async def _numbered(chunks: AsyncIterator[Chunk]) -> AsyncIterator[tuple[int, Chunk]]:
    n = 0
    async for chunk in chunks:
        yield n, chunk
        n += 1


@pytest.fixture(params=["in_process", "embedded"])
def gated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SyncClient, GatedModel]]:
    model = GatedModel()
    if request.param == "in_process":
        app = create_app(adversarial_settings(tmp_path), overrides={"llm": model})
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        settings = adversarial_settings(tmp_path, jyntrix_profile=DeploymentProfile.EMBEDDED, database_url=dsn)
        app = create_app(settings, overrides={**in_process_overrides("storage"), "llm": model})
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, model


def test_delete_all_during_a_turn_ends_it_cleanly_and_leaves_nothing_of_the_user(
    gated: tuple[SyncClient, GatedModel],
) -> None:
    api, model = gated
    headers = new_user()

    async def run() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            said = {"content": "My sister Maya lives in Lisbon."}
            turn = asyncio.create_task(client.post("/api/chat/messages/stream", json=said, headers=headers))
            await asyncio.wait_for(model.streaming.wait(), 30)
            forgot = await client.delete("/api/memories?confirm=true", headers=headers)
            model.release.set()
            return await asyncio.wait_for(turn, 30), forgot

    streamed, forgot = api.blocking_portal.call(run)
    assert forgot.status_code == 200, forgot.text
    events = sse_events(streamed.text)
    name, last = events[-1]
    assert name == "error", events
    assert last["code"] == "not_found" and last["retryable"] is False
    assert not any(word in last["message"] for word in ("table", "Key (", "conversations", "violates")), last
    drain(api)
    api.blocking_portal.call(services_of(api).emitter.flush)
    usage = api.get("/api/v1/analytics/usage", headers=headers).json()["usage"]
    assert usage == {"turns": 0, "users": 0, "input_tokens": 0, "output_tokens": 0}
    latency = api.get("/api/v1/analytics/latency", headers=headers).json()
    assert (latency["phases"], latency["strategies"]) == ([], []), latency
    assert api.get("/api/memories?current_only=false", headers=headers).json()["total"] == 0
    assert api.get("/api/chat/conversations", headers=headers).json()["items"] == []
