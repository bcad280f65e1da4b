"""The real server process (uvicorn via `jyntrix serve`) on the embedded deployment, over real HTTP.

Embedded Postgres, Qdrant Edge, bm25s, fastembed, the offline model and the in-process task
runner, with the data directory in a temporary folder. DATABASE_URL, REDIS_URL and the model
keys are removed from the server's environment so that it is the zero-setup default under test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.http.chat_turns import answer_of
from tests.http.sse import Event, iter_events
from testsupport.server import Server, serving_in

pytestmark = pytest.mark.slow

EXTRACTION_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, minilm_model_dir: Path) -> Iterator[Server]:
    # paces the offline model like a real one, so that the stream has something to be incremental about
    yield from serving_in(tmp_path_factory, "jyntrix-e2e", minilm_model_dir, OFFLINE_LLM_TOKEN_DELAY_S="0.03")


async def _stream(
    client: httpx.AsyncClient, headers: dict[str, str], content: str, conversation_id: str | None = None
) -> tuple[list[Event], list[int]]:
    """The turn's events, and for each the number of the network read that completed it."""
    path = (
        f"/api/chat/conversations/{conversation_id}/messages/stream" if conversation_id else "/api/chat/messages/stream"
    )
    events: list[Event] = []
    reads: list[int] = []
    read_number = 0

    async with client.stream("POST", path, json={"content": content}, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")

        async def chunks() -> Any:
            nonlocal read_number
            async for chunk in response.aiter_text():
                read_number += 1
                yield chunk

        async for event in iter_events(chunks()):
            events.append(event)
            reads.append(read_number)
    return events, reads


async def _wait_for_memory(client: httpx.AsyncClient, headers: dict[str, str], *words: str) -> dict[str, Any]:
    """Extraction runs in the background after the turn; poll until its fact is there."""
    deadline = time.monotonic() + EXTRACTION_TIMEOUT_S
    while time.monotonic() < deadline:
        # Extraction's facts, not the turn memory the message became at once.
        items = (await client.get("/api/memories?kind=fact", headers=headers)).json()["items"]
        for memory in items:
            if all(w in memory["content"] for w in words):
                found: dict[str, Any] = memory
                return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no memory with {words} after {EXTRACTION_TIMEOUT_S}s: {items}")


async def test_the_server_says_how_to_get_started(server: Server) -> None:
    log = server.log()
    assert f"is ready on {server.base_url}" in log
    assert "jyntrix token --user" in log
    assert "curl -N" in log and "/api/chat/messages/stream" in log
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        ready = (await client.get("/health/ready")).json()
    backends = {name: check["backend"] for name, check in ready["checks"].items()}
    assert backends["database"] == "postgres (embedded)"
    assert backends["vector_index"] == "qdrant-edge"
    assert backends["keyword_index"] == "bm25s"
    assert backends["embedder"].startswith("fastembed")
    assert backends["language_model"] == "offline"
    assert backends["task_queue"] == "in-process"


async def test_a_chat_turn_streams_incrementally_and_in_order(server: Server) -> None:
    headers = server.token("stream-user")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        events, reads = await _stream(client, headers, "Hello! I just moved into a new flat and I love it.")
    names = [e.event for e in events]
    assert names[:2] == ["conversation", "context"]
    assert names[-1] == "done"
    tokens = [i for i, name in enumerate(names) if name == "token"]
    assert tokens == list(range(2, len(names) - 1)) and len(tokens) >= 5
    assert [int(e.id or -1) for e in events] == list(range(len(events)))
    # Not buffered: the first event was complete in an earlier read than the last, and the tokens came
    # over several reads rather than in one body.
    assert reads[0] < reads[-1]
    assert len({reads[i] for i in tokens}) >= 3
    assert events[-1].data["conversation_id"] == events[0].data["id"]


async def test_a_fact_is_extracted_then_used_and_cited_in_a_new_conversation(server: Server) -> None:
    headers = server.token("fact-user")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        told, _ = await _stream(client, headers, "My sister Maya lives in Lisbon.")
        assert told[-1].event == "done"
        fact = await _wait_for_memory(client, headers, "Maya", "Lisbon")
        assert told[0].data["user_message_id"] in fact["source_message_ids"]

        asked, _ = await _stream(client, headers, "Where does my sister live?")
        assert asked[0].data["created"] is True
        assert asked[0].data["id"] != told[0].data["id"]
        context = asked[1].data
        used = [m for m in context["memories"] if m["id"] == fact["id"]]
        assert used, context
        answer = answer_of(asked)
        assert "Lisbon" in answer
        assert f"[{used[0]['ref']}]" in answer
        search = (
            await client.post("/api/memories/search", json={"query": "Where does Maya live?"}, headers=headers)
        ).json()
        assert search["results"][0]["memory"]["id"] == fact["id"]
        assert search["results"][0]["scores"]["signals"]["vector"] > 0.3


async def test_two_users_never_see_each_others_data(server: Server) -> None:
    alice, bob = server.token("iso-alice"), server.token("iso-bob")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        told, _ = await _stream(client, alice, "My passport number is X1234567 and I live in Oslo.")
        conversation_id = told[0].data["id"]
        memory = (
            await client.post("/api/memories", json={"content": "Alice's bank PIN is 9876"}, headers=alice)
        ).json()
        await client.patch("/api/profile", json={"display_name": "Alice"}, headers=alice)
        await _wait_for_memory(client, alice, "Oslo")

        mid, cid = memory["id"], conversation_id
        refused = [
            await client.get(f"/api/memories/{mid}", headers=bob),
            await client.patch(f"/api/memories/{mid}", json={"content": "hacked"}, headers=bob),
            await client.delete(f"/api/memories/{mid}", headers=bob),
            await client.get(f"/api/memories/{mid}/history", headers=bob),
            await client.post(f"/api/memories/{mid}/supersede", json={"content": "hacked"}, headers=bob),
            await client.get(f"/api/chat/conversations/{cid}", headers=bob),
            await client.get(f"/api/chat/conversations/{cid}/messages", headers=bob),
            await client.delete(f"/api/chat/conversations/{cid}", headers=bob),
            await client.post(f"/api/chat/conversations/{cid}/messages/stream", json={"content": "hi"}, headers=bob),
        ]
        assert [r.status_code for r in refused] == [404] * len(refused)

        assert (await client.get("/api/memories?current_only=false", headers=bob)).json()["total"] == 0
        assert (await client.get("/api/chat/conversations", headers=bob)).json()["items"] == []
        for query in ("bank PIN", "passport number", "Where do I live?"):
            found = (await client.post("/api/memories/search", json={"query": query}, headers=bob)).json()
            assert found["results"] == [], query
        exported = (await client.get("/api/memories/export", headers=bob)).json()
        assert exported["memories"] == [] and exported["entities"] == [] and exported["profile"] is None
        assert (await client.get("/api/profile", headers=bob)).json()["display_name"] is None
        asked, _ = await _stream(client, bob, "What is my bank PIN and where do I live?")
        assert asked[1].data["memories"] == []
        assert "9876" not in answer_of(asked) and "Oslo" not in answer_of(asked)
        assert (await client.delete("/api/memories?confirm=true", headers=bob)).status_code == 200

        # Alice still has everything
        assert (await client.get(f"/api/memories/{mid}", headers=alice)).status_code == 200
        messages = (await client.get(f"/api/chat/conversations/{cid}/messages", headers=alice)).json()["items"]
        assert len(messages) == 2
        found = (await client.post("/api/memories/search", json={"query": "bank PIN"}, headers=alice)).json()
        assert found["results"][0]["memory"]["id"] == mid


async def test_a_clean_restart_keeps_memories_indexes_and_analytics(server: Server) -> None:
    headers = server.token("restart-user")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        created = (
            await client.post("/api/memories", json={"content": "I keep bees on my allotment"}, headers=headers)
        ).json()
        await _stream(client, headers, "Do you know about my hobby with bees?")
    # Fewer spans than a batch, and sooner than the flush interval: only the shutdown flush can save them.
    assert server.stop() == 0
    log = server.log()
    assert "shutting down" in log and "Application shutdown complete" in log
    assert "Traceback" not in log
    server.start()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        assert (await client.get(f"/api/memories/{created['id']}", headers=headers)).status_code == 200
        found = (await client.post("/api/memories/search", json={"query": "bees allotment"}, headers=headers)).json()
        assert found["results"][0]["memory"]["id"] == created["id"]
        assert {"keyword", "vector"} <= set(found["results"][0]["match_types"])
        usage = (await client.get("/api/v1/analytics/usage", headers=headers)).json()["usage"]
        assert usage["turns"] == 1
