"""The three doors against the real `jyntrix serve` process (embedded deployment): jyntrix_client, the openai SDK
on /v1, and the mcp SDK over streamable HTTP and over stdio (`jyntrix mcp`, a real subprocess)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import openai
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from jyntrix_client import Client, ContextEvent, ConversationEvent, DoneEvent, MemoryType, NotFound, TokenEvent
from tests.agents.stdio import run_mcp, stdio_session
from tests.agents.test_mcp_http import TOOLS, call
from testsupport.server import Server, serving_in, stale_serving_file

pytestmark = pytest.mark.slow

EXTRACTION_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, minilm_model_dir: Path) -> Iterator[Server]:
    yield from serving_in(tmp_path_factory, "jyntrix-agents", minilm_model_dir, OFFLINE_LLM_TOKEN_DELAY_S="0")


def token(server: Server, user: str) -> str:
    return server.token(user)["Authorization"].removeprefix("Bearer ")


def wait_for_fact(jx: Client, *words: str) -> None:
    """Extraction runs in the background after a turn: poll until its fact is a memory."""
    deadline = time.monotonic() + EXTRACTION_TIMEOUT_S
    while time.monotonic() < deadline:
        for memory in jx.iter_memories(types=[MemoryType.SEMANTIC]):
            if all(w in memory.content for w in words):
                return
        time.sleep(0.2)
    raise AssertionError(f"no memory with {words} after {EXTRACTION_TIMEOUT_S}s")


def test_jyntrix_client_against_the_real_server(server: Server) -> None:
    with Client(server.base_url, token(server, f"client-{uuid.uuid4()}")) as jx:
        made = jx.remember("My sister Maya lives in Lisbon.", entities=["Maya", "Lisbon"])
        assert jx.search("Where does Maya live?").results[0].memory.id == made.id
        events = list(jx.chat("Where does my sister live?"))
        assert isinstance(events[0], ConversationEvent)
        context = events[1]
        assert isinstance(context, ContextEvent)
        assert made.id in [m.id for m in context.memories]
        assert "Lisbon" in "".join(e.delta for e in events if isinstance(e, TokenEvent))
        assert isinstance(events[-1], DoneEvent)
        with pytest.raises(NotFound) as caught:
            jx.forget("no-such-memory")
        assert caught.value.request_id


def test_openai_sdk_a_fact_told_in_one_call_is_recalled_in_a_later_one(server: Server) -> None:
    bearer = token(server, f"openai-{uuid.uuid4()}")
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=bearer, max_retries=0)
    told = client.chat.completions.create(
        model="jyntrix", messages=[{"role": "user", "content": "My sister Maya lives in Lisbon."}]
    )
    assert told.model == "jyntrix"
    assert told.choices[0].message.content
    with Client(server.base_url, bearer) as jx:
        wait_for_fact(jx, "Maya", "Lisbon")

    stream = client.chat.completions.create(
        model="jyntrix",
        messages=[{"role": "user", "content": "Where does my sister live?"}],
        stream=True,
    )
    chunks = list(stream)
    answer = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Lisbon" in answer
    assert chunks[-1].choices[0].finish_reason == "stop"
    again = client.chat.completions.create(
        model="jyntrix", messages=[{"role": "user", "content": "Where does my sister live?"}]
    )
    assert "Lisbon" in (again.choices[0].message.content or "")


def test_openai_sdk_lists_the_models_and_stops_at_a_stop_sequence(server: Server) -> None:
    def sdk() -> openai.OpenAI:
        # A fresh user each time: the offline model's answer to a first message is the same for all of them.
        return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=token(server, f"stop-{uuid.uuid4()}"))

    client = sdk()
    assert [(m.id, m.object) for m in client.models.list()] == [("jyntrix", "model"), ("offline", "model")]
    assert client.models.retrieve("offline").owned_by == "jyntrix"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")

    said = [{"role": "user", "content": "My sister Maya lives in Lisbon and plays the cello."}]
    whole = client.chat.completions.create(model="offline", messages=said).choices[0].message.content or ""
    stop = "Lisbon"
    assert stop in whole
    expected = whole[: whole.index(stop)]
    stopped = sdk().chat.completions.create(model="offline", messages=said, stop=stop)
    assert stopped.choices[0].message.content == expected
    stream = sdk().chat.completions.create(model="jyntrix", messages=said, stop=[stop, "cello"], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == expected


def test_jyntrix_client_moves_an_account_by_export_and_restore(server: Server) -> None:
    with Client(server.base_url, token(server, f"export-{uuid.uuid4()}")) as jx:
        older = jx.remember("I live in Berlin")
        jx.supersede(older.id, "I live in Amsterdam")
        turn = list(jx.chat("My sister Maya lives in Lisbon."))
        chat = next(e.id for e in turn if isinstance(e, ConversationEvent))
        said = [
            {"role": "user", "content": "We are going to Kyoto in April.", "created_at": "2025-02-01T10:00:00Z"},
            {"role": "assistant", "content": "Lovely.", "created_at": "2025-02-01T10:00:05Z"},
        ]
        transcript = jx.import_transcript(said, title="Trip").conversation_id
        # Extraction may still be drawing facts: the export is a snapshot, and the restore holds to it.
        exported = jx.export()
    assert {c.id for c in exported.conversations} == {chat, transcript}

    with Client(server.base_url, token(server, f"moved-{uuid.uuid4()}")) as moved:
        report = moved.restore(exported)
        assert report.restored.memories == len(exported.memories)
        assert report.restored.messages == sum(len(c.messages) for c in exported.conversations) == 4
        assert moved.get_memory(older.id).superseded_by is not None
        found = {r.memory.content: r.current for r in moved.search("Where do I live?").results}
        assert (found["I live in Amsterdam"], found.get("I live in Berlin", False)) == (True, False)
        again = moved.export()
    assert len(again.memories) == len(exported.memories)
    assert [c.messages[-1].created_at for c in again.conversations] == [
        c.messages[-1].created_at for c in exported.conversations
    ]


async def test_mcp_over_streamable_http_against_the_real_server(server: Server) -> None:
    async def session_for(bearer: str) -> tuple[httpx2.AsyncClient, str]:
        return httpx2.AsyncClient(headers={"Authorization": f"Bearer {bearer}"}, timeout=60), f"{server.base_url}/mcp"

    alice, bob = token(server, f"mcp-a-{uuid.uuid4()}"), token(server, f"mcp-b-{uuid.uuid4()}")
    http, url = await session_for(alice)
    async with http, streamable_http_client(url, http_client=http) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        assert {t.name for t in (await s.list_tools()).tools} == TOOLS
        made = await call(s, "remember", content="My dentist is Dr. Okafor.")
    http, url = await session_for(alice)
    async with http, streamable_http_client(url, http_client=http) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        assert (await call(s, "recall", query="Who is my dentist?"))["results"][0]["id"] == made["id"]
    http, url = await session_for(bob)
    async with http, streamable_http_client(url, http_client=http) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        assert (await call(s, "recall", query="Who is my dentist?"))["results"] == []


async def test_jyntrix_mcp_talks_to_the_running_server(server: Server) -> None:
    # Same data directory as the server, so --user gets a dev token signed with its secret.
    env = {**server.env, "JYNTRIX_URL": server.base_url}
    user = f"stdio-{uuid.uuid4()}"
    async with stdio_session(env, "--user", user) as session:
        made = await call(session, "remember", content="I am allergic to peanuts.")
    async with stdio_session(env, "--user", user) as session:
        assert (await call(session, "recall", query="allergic"))["results"][0]["id"] == made["id"]
    with Client(server.base_url, token(server, user)) as jx:
        assert jx.get_memory(made["id"]).content == "I am allergic to peanuts."


async def test_jyntrix_mcp_finds_the_server_serving_its_data_directory(server: Server) -> None:
    # No JYNTRIX_URL: the server's serving file (server.json in the data directory) says where it is.
    user = f"found-{uuid.uuid4()}"
    async with stdio_session(server.env, "--user", user) as session:
        made = await call(session, "remember", content="I am allergic to shellfish.")
    with Client(server.base_url, token(server, user)) as jx:
        assert jx.get_memory(made["id"]).content == "I am allergic to shellfish."


def test_jyntrix_mcp_says_when_no_server_answers_and_the_data_directory_is_held(server: Server) -> None:
    with stale_serving_file(server):
        result = run_mcp(server.env, "--user", "someone")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert "JYNTRIX_DATA_DIR" in lines[0] and "is open in another process" in lines[0]
    assert "JYNTRIX_URL" in lines[1]
    assert httpx2.get(f"{server.base_url}/health/ready").status_code == 200  # the server is unharmed


async def test_jyntrix_mcp_on_its_own_embedded_data_directory_across_sessions(server: Server, tmp_path: Path) -> None:
    env = {**server.env, "JYNTRIX_DATA_DIR": str(tmp_path / "desktop")}
    async with stdio_session(env, "--user", "desk") as session:
        made = await call(session, "remember", content="My bike is a green Brompton.")
    async with stdio_session(env, "--user", "desk") as session:
        assert (await call(session, "recall", query="What bike do I have?"))["results"][0]["id"] == made["id"]
