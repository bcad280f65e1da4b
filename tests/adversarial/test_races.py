"""Races: concurrent requests on one user's data end in one consistent state, on both profiles.

Each test sends a bounded number of requests at once, through the app's own event loop, and then
checks what the store and the indexes hold; nothing here measures time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_bootstrap.settings import DeploymentProfile
from jyntrix_domain.model import Chunk, Prompt, Vector
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


class HeldEmbedder(HashEmbedder):
    """The hash embedder, holding any batch that contains `HOLD` until `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.held = 0
        self.release = asyncio.Event()

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        if any("HOLD" in t for t in texts):
            self.held += 1
            await self.release.wait()
        return await super().embed(texts)


def test_one_users_bulk_import_is_capped_and_another_user_is_served_meanwhile(tmp_path: Path) -> None:
    embedder = HeldEmbedder()
    settings = adversarial_settings(tmp_path, bulk_concurrency_per_user=1, bulk_concurrency=2)
    noisy, quiet = new_user(), new_user()
    with TestClient(create_app(settings, overrides={"base_embedder": embedder})) as api:

        async def run() -> dict[str, httpx.Response]:
            transport = httpx.ASGITransport(app=api.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                held = [{"content": f"HOLD bulk note {i}"} for i in range(50)]
                first = asyncio.create_task(client.post("/api/memories/import", json={"memories": held}, headers=noisy))
                await until(lambda: embedder.held == 1)
                more = [{"content": f"more bulk {i}"} for i in range(50)]
                answers = {
                    "second": await client.post("/api/memories/import", json={"memories": more}, headers=noisy),
                    "quiet_import": await client.post(
                        "/api/memories/import", json={"memories": [{"content": "My boat is teal"}]}, headers=quiet
                    ),
                    "quiet_search": await client.post(
                        "/api/memories/search", json={"query": "boat colour"}, headers=quiet
                    ),
                }
                # The server's two slots: the noisy user's held import and one more user's import.
                third = new_user()
                blocker = asyncio.create_task(
                    client.post("/api/memories/import", json={"memories": held[:1]}, headers=third)
                )
                await until(lambda: embedder.held == 2)
                answers["full"] = await client.post(
                    "/api/memories/import", json={"memories": [{"content": "x y"}]}, headers=new_user()
                )
                embedder.release.set()
                answers["first"] = await asyncio.wait_for(first, 30)
                answers["blocker"] = await asyncio.wait_for(blocker, 30)
                return answers

        answers = api.blocking_portal.call(run)
    second = answers["second"]
    assert second.status_code == 429, second.text
    assert int(second.headers["retry-after"]) >= 1
    assert answers["quiet_import"].status_code == 201
    found = answers["quiet_search"].json()["results"]
    assert [r["memory"]["content"] for r in found] == ["My boat is teal"]
    full = answers["full"]
    assert full.status_code == 503 and int(full.headers["retry-after"]) >= 1, full.text
    assert answers["first"].status_code == 201 and answers["first"].json()["imported"] == 50
    assert answers["blocker"].status_code == 201


async def until(condition: Callable[[], bool], tries: int = 3000) -> None:
    """Yield to the loop until `condition` holds; bounded in count, never a timing assertion."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


def _transcript(text: str, n: int = 3) -> dict[str, Any]:
    said = [{"role": "user", "content": f"{text} {i}", "created_at": f"2025-03-0{i + 1}T10:00:00Z"} for i in range(n)]
    return {"messages": said}


def test_one_users_transcript_import_is_capped_by_the_bulk_slots_and_another_user_is_served(tmp_path: Path) -> None:
    embedder = HeldEmbedder()
    settings = adversarial_settings(tmp_path, bulk_concurrency_per_user=1, bulk_concurrency=2)
    noisy, quiet = new_user(), new_user()
    route = "/api/chat/conversations/import"
    with TestClient(create_app(settings, overrides={"base_embedder": embedder})) as api:

        async def run() -> dict[str, httpx.Response]:
            transport = httpx.ASGITransport(app=api.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                first = asyncio.create_task(client.post(route, json=_transcript("HOLD my old chat"), headers=noisy))
                await until(lambda: embedder.held == 1)
                answers = {
                    "second": await client.post(route, json=_transcript("another old chat"), headers=noisy),
                    # The memories import shares the transcript import's slots.
                    "memories": await client.post(
                        "/api/memories/import", json={"memories": [{"content": "a note"}]}, headers=noisy
                    ),
                    "quiet": await client.post(route, json=_transcript("My boat is teal", 1), headers=quiet),
                    "quiet_search": await client.post(
                        "/api/memories/search", json={"query": "boat teal"}, headers=quiet
                    ),
                }
                blocker = asyncio.create_task(client.post(route, json=_transcript("HOLD third", 1), headers=new_user()))
                await until(lambda: embedder.held == 2)
                answers["full"] = await client.post(route, json=_transcript("late chat", 1), headers=new_user())
                embedder.release.set()
                answers["first"] = await asyncio.wait_for(first, 30)
                answers["blocker"] = await asyncio.wait_for(blocker, 30)
                answers["again"] = await client.post(route, json=_transcript("another old chat"), headers=noisy)
                return answers

        answers = api.blocking_portal.call(run)
    for name in ("second", "memories"):
        assert answers[name].status_code == 429, answers[name].text
        assert int(answers[name].headers["retry-after"]) >= 1
    assert answers["quiet"].status_code == 201, answers["quiet"].text
    found = answers["quiet_search"].json()["results"]
    assert [r["memory"]["content"] for r in found] == ["My boat is teal 0"]
    full = answers["full"]
    assert full.status_code == 503 and int(full.headers["retry-after"]) >= 1, full.text
    assert answers["first"].status_code == 201 and answers["first"].json()["messages"] == 3
    assert answers["blocker"].status_code == 201
    assert answers["again"].status_code == 201, answers["again"].text
