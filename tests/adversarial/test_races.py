"""Races: concurrent requests on one user's data end in one consistent state, on both deployments.

Each test sends a bounded number of requests at once, through the app's own event loop, and then
checks what the store and the indexes hold; nothing here measures time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from litestar.testing import TestClient

from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_bootstrap.settings import Deployment
from jyntrix_domain.model import Vector
from jyntrix_domain.prompts import Chunk, Prompt
from jyntrix_http.app import create_app
from tests.adversarial.conftest import SyncClient, sse_events
from tests.adversarial.served import adversarial_settings
from testsupport.app import bearer, drain_tasks, in_process_overrides, services_of
from testsupport.scripted_language_model import ScriptedLanguageModel

Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
T = TypeVar("T")


def on_app_loop(api: SyncClient, run: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """`run(client)` with an async client of the app, on the loop its resources live on."""

    async def with_client() -> T:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await run(client)

    return api.blocking_portal.call(with_client)


def at_once(api: SyncClient, sends: list[Send]) -> list[httpx.Response]:
    """Run every request concurrently against the app."""

    async def run(client: httpx.AsyncClient) -> list[httpx.Response]:
        return list(await asyncio.gather(*(send(client) for send in sends)))

    return on_app_loop(api, run)


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


def served_with(
    request: pytest.FixtureRequest, tmp_path: Path, keep: tuple[str, ...] = ("storage",), **overrides: Any
) -> Iterator[SyncClient]:
    """The app with `overrides` (an "llm", a "base_embedder"...), on the deployment `request.param` names:
    in_process, or embedded with its real adapters for the resources in `keep` (its stores by default)."""
    if request.param == "in_process":
        app = create_app(adversarial_settings(tmp_path), overrides=overrides)
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        settings = adversarial_settings(tmp_path, jyntrix_deployment=Deployment.EMBEDDED, database_url=dsn)
        app = create_app(settings, overrides={**in_process_overrides(*keep), **overrides})
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(params=["in_process", "embedded"])
def gated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SyncClient, GatedModel]]:
    model = GatedModel()
    for client in served_with(request, tmp_path, llm=model):
        yield client, model


def test_delete_all_during_a_turn_ends_it_cleanly_and_leaves_nothing_of_the_user(
    gated: tuple[SyncClient, GatedModel],
) -> None:
    api, model = gated
    headers = new_user()

    async def run(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        said = {"content": "My sister Maya lives in Lisbon."}
        turn = asyncio.create_task(client.post("/api/chat/messages/stream", json=said, headers=headers))
        await asyncio.wait_for(model.streaming.wait(), 30)
        forgot = await client.delete("/api/memories?confirm=true", headers=headers)
        model.release.set()
        return await asyncio.wait_for(turn, 30), forgot

    streamed, forgot = on_app_loop(api, run)
    assert forgot.status_code == 200, forgot.text
    events = sse_events(streamed.text)
    name, last = events[-1]
    assert name == "error", events
    assert last["code"] == "not_found" and last["retryable"] is False
    assert not any(word in last["message"] for word in ("table", "Key (", "conversations", "violates")), last
    drain_tasks(api)
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


async def until(condition: Callable[[], bool], tries: int = 3000) -> None:
    """Yield to the loop until `condition` holds; bounded in count, never a timing assertion."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


def with_bulk_slots_taken(
    tmp_path: Path,
    *,
    held: Send,
    meanwhile: dict[str, Send],
    blocker: Send,
    full: Send,
    afterwards: dict[str, Send] | None = None,
) -> dict[str, httpx.Response]:
    """The answers of a run on an app with one bulk slot per user and two in all.

    `held` takes its user's slot (the embedder holds any batch containing HOLD); `meanwhile` is sent
    one by one; `blocker`, another held request, takes the server's second slot, and `full` is sent
    while both are taken. Then the embedder lets go, and `afterwards` is sent. Answers by name, with
    those of `held` as "first", `blocker` and `full` among them.
    """
    embedder = HeldEmbedder()
    settings = adversarial_settings(tmp_path, bulk_concurrency_per_user=1, bulk_concurrency=2)
    with TestClient(create_app(settings, overrides={"base_embedder": embedder})) as api:

        async def run(client: httpx.AsyncClient) -> dict[str, httpx.Response]:
            first = asyncio.create_task(held(client))
            await until(lambda: embedder.held == 1)
            answers = {name: await send(client) for name, send in meanwhile.items()}
            blocking = asyncio.create_task(blocker(client))
            await until(lambda: embedder.held == 2)
            answers["full"] = await full(client)
            embedder.release.set()
            answers["first"] = await asyncio.wait_for(first, 30)
            answers["blocker"] = await asyncio.wait_for(blocking, 30)
            for name, send in (afterwards or {}).items():
                answers[name] = await send(client)
            return answers

        return on_app_loop(api, run)


def assert_retry_later(response: httpx.Response, status: int) -> None:
    """Refused with `status` and told to come back in a second or more."""
    assert response.status_code == status, response.text
    assert int(response.headers["retry-after"]) >= 1, response.headers


def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Send:
    return lambda c: c.post(path, json=body, headers=headers)


def test_one_users_bulk_import_is_capped_and_another_user_is_served_meanwhile(tmp_path: Path) -> None:
    noisy, quiet = new_user(), new_user()
    route = "/api/memories/import"
    held = [{"content": f"HOLD bulk note {i}"} for i in range(50)]
    more = [{"content": f"more bulk {i}"} for i in range(50)]
    answers = with_bulk_slots_taken(
        tmp_path,
        held=post(route, {"memories": held}, noisy),
        meanwhile={
            "second": post(route, {"memories": more}, noisy),
            "quiet_import": post(route, {"memories": [{"content": "My boat is teal"}]}, quiet),
            "quiet_search": post("/api/memories/search", {"query": "boat colour"}, quiet),
        },
        # The server's two slots: the noisy user's held import and one more user's import.
        blocker=post(route, {"memories": held[:1]}, new_user()),
        full=post(route, {"memories": [{"content": "x y"}]}, new_user()),
    )
    assert_retry_later(answers["second"], 429)
    assert answers["quiet_import"].status_code == 201
    found = answers["quiet_search"].json()["results"]
    assert [r["memory"]["content"] for r in found] == ["My boat is teal"]
    assert_retry_later(answers["full"], 503)
    assert answers["first"].status_code == 201 and answers["first"].json()["imported"] == 50
    assert answers["blocker"].status_code == 201


def _transcript(text: str, n: int = 3) -> dict[str, Any]:
    said = [{"role": "user", "content": f"{text} {i}", "created_at": f"2025-03-0{i + 1}T10:00:00Z"} for i in range(n)]
    return {"messages": said}


def test_one_users_transcript_import_is_capped_by_the_bulk_slots_and_another_user_is_served(tmp_path: Path) -> None:
    noisy, quiet = new_user(), new_user()
    route = "/api/chat/conversations/import"
    answers = with_bulk_slots_taken(
        tmp_path,
        held=post(route, _transcript("HOLD my old chat"), noisy),
        meanwhile={
            "second": post(route, _transcript("another old chat"), noisy),
            # The memories import shares the transcript import's slots.
            "memories": post("/api/memories/import", {"memories": [{"content": "a note"}]}, noisy),
            "quiet": post(route, _transcript("My boat is teal", 1), quiet),
            "quiet_search": post("/api/memories/search", {"query": "boat teal"}, quiet),
        },
        blocker=post(route, _transcript("HOLD third", 1), new_user()),
        full=post(route, _transcript("late chat", 1), new_user()),
        afterwards={"again": post(route, _transcript("another old chat"), noisy)},
    )
    for name in ("second", "memories"):
        assert_retry_later(answers[name], 429)
    assert answers["quiet"].status_code == 201, answers["quiet"].text
    found = answers["quiet_search"].json()["results"]
    assert [r["memory"]["content"] for r in found] == ["My boat is teal 0"]
    assert_retry_later(answers["full"], 503)
    assert answers["first"].status_code == 201 and answers["first"].json()["messages"] == 3
    assert answers["blocker"].status_code == 201
    assert answers["again"].status_code == 201, answers["again"].text
