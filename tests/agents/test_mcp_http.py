"""MCP over streamable HTTP at /mcp, through the `mcp` SDK's own client session, against the running app."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from jyntrix_domain.signals import SIGNAL_NAMES
from jyntrix_http.auth import mint_token
from tests.agents.conftest import LiveApp, serve
from testsupport.app import SECRET

TOOLS = {"remember", "recall", "forget", "update", "supersede", "history", "list_memories", "import_transcript"}


def token_for(user: str | None = None) -> str:
    return mint_token(SECRET, user or f"user-{uuid.uuid4()}")


@asynccontextmanager
async def mcp_session(live: LiveApp, token: str) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{live.base_url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> Any:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content or json.loads(result.content[0].text)  # type: ignore[union-attr]


async def test_tools_resources_and_the_prompt_are_listed(live_app: LiveApp) -> None:
    async with mcp_session(live_app, token_for()) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == TOOLS
        assert "before answering" in (tools["recall"].description or "")
        resources = {str(r.uri) for r in (await session.list_resources()).resources}
        assert resources == {"jyntrix://profile", "jyntrix://facts"}
        prompts = [p.name for p in (await session.list_prompts()).prompts]
        assert prompts == ["use_my_memory"]
        prompt = await session.get_prompt("use_my_memory", {"topic": "travel"})
        assert "recall" in prompt.messages[0].content.text  # type: ignore[union-attr]


async def test_remember_then_recall_in_another_session(live_app: LiveApp) -> None:
    token = token_for()
    async with mcp_session(live_app, token) as session:
        made = await call(session, "remember", content="My sister Maya lives in Lisbon.", entities=["Maya"])
    async with mcp_session(live_app, token) as session:
        found = await call(session, "recall", query="Where does Maya live?", token_budget=200)
        assert found["results"][0]["id"] == made["id"]
        assert set(found["results"][0]["signals"]) == set(SIGNAL_NAMES)
        assert "[1] (semantic) My sister Maya lives in Lisbon." in found["context"]
        assert 0 < found["context_tokens"] <= 200
        facts = await session.read_resource("jyntrix://facts")
        assert [f["id"] for f in json.loads(facts.contents[0].text)] == [made["id"]]  # type: ignore[union-attr]


async def test_update_supersede_history_list_and_forget(live_app: LiveApp) -> None:
    async with mcp_session(live_app, token_for()) as session:
        made = await call(session, "remember", content="I work at Acme.")
        edited = await call(session, "update", memory_id=made["id"], content="I work at Acme Corp.")
        assert edited["content"] == "I work at Acme Corp."
        newer = await call(session, "supersede", memory_id=made["id"], content="I work at Globex.")
        changes = await call(session, "history", memory_id=made["id"])
        assert [c["kind"] for c in changes["changes"]] == ["create", "update", "supersede"]
        listed = await call(session, "list_memories")
        assert [m["id"] for m in listed["items"]] == [newer["id"]]
        assert (await call(session, "forget", memory_id=newer["id"])) == {"forgotten": newer["id"]}
        assert (await call(session, "list_memories"))["total"] == 0
        profile = await session.read_resource("jyntrix://profile")
        assert json.loads(profile.contents[0].text)["memories"] == []  # type: ignore[union-attr]


async def test_two_tokens_never_see_each_others_memories(live_app: LiveApp) -> None:
    alice, bob = token_for(), token_for()
    async with mcp_session(live_app, alice) as session:
        secret = await call(session, "remember", content="Alice's locker code is 4711.")
    async with mcp_session(live_app, bob) as session:
        assert (await call(session, "recall", query="locker code 4711"))["results"] == []
        assert (await call(session, "list_memories"))["total"] == 0
        stolen = await session.call_tool("forget", {"memory_id": secret["id"]})
        assert stolen.is_error
        peek = await session.call_tool("history", {"memory_id": secret["id"]})
        assert peek.is_error
    async with mcp_session(live_app, alice) as session:
        assert (await call(session, "list_memories"))["items"][0]["id"] == secret["id"]


@pytest.mark.parametrize(
    ("tool", "arguments", "says"),
    [
        ("remember", {}, "content"),
        ("remember", {"content": ""}, "content"),
        ("remember", {"content": "x", "type": "gossip"}, "type"),
        ("remember", {"content": "x", "reliability": 3}, "reliability"),
        ("recall", {"query": "x", "limit": 0}, "limit"),
        ("recall", {"query": "x", "token_budget": 10}, "token_budget"),
        ("forget", {"memory_id": "no-such-memory"}, "not found"),
        ("update", {"memory_id": "no-such-memory"}, "nothing to change"),
        ("supersede", {"memory_id": "no-such-memory", "content": "y"}, "not found"),
        ("list_memories", {"offset": -1}, "offset"),
        ("no_such_tool", {}, "no_such_tool"),
    ],
)
async def test_bad_arguments_are_tool_errors_and_the_session_goes_on(
    live_app: LiveApp, tool: str, arguments: dict[str, Any], says: str
) -> None:
    async with mcp_session(live_app, token_for()) as session:
        result = await session.call_tool(tool, arguments)
        assert result.is_error
        assert says in result.content[0].text.lower()  # type: ignore[union-attr]
        assert (await call(session, "list_memories"))["total"] == 0  # the same session still works


def test_no_token_is_a_401(live_app: LiveApp) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    response = httpx.post(f"{live_app.base_url}/mcp", json=body, headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    bad = httpx.post(f"{live_app.base_url}/mcp", json=body, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


@pytest.fixture
def limited_app(tmp_path: Path) -> Any:
    yield from serve(tmp_path, rate_limit_requests=3, rate_limit_window_s=60.0)


def test_the_rate_limit_applies(limited_app: LiveApp) -> None:
    token = token_for()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    statuses = [httpx.post(f"{limited_app.base_url}/mcp", json=body, headers=headers).status_code for _ in range(4)]
    assert statuses[-1] == 429
    assert 429 not in statuses[:3]


async def test_import_transcript_remembers_each_turn_with_its_own_time(live_app: LiveApp) -> None:
    messages = [
        {"role": "user", "name": "Ann", "content": "Our boat is moored in Kiel.", "created_at": "2023-05-08T13:56:00Z"},
        {"role": "assistant", "content": "Lovely.", "created_at": "2023-05-08T13:57:00Z"},
    ]
    async with mcp_session(live_app, token_for()) as session:
        made = await call(session, "import_transcript", messages=messages, title="Sailing")
        # Both sides are what was said: Ann's statement and the assistant's answer.
        assert len(made["message_ids"]) == 2 and made["turn_memories"] == 2
        again = await call(session, "import_transcript", messages=messages, title="Sailing")
        assert again["message_ids"] == made["message_ids"]
        found = await call(session, "recall", query="where is the boat moored?")
        assert found["results"][0]["content"] == "Ann: Our boat is moored in Kiel."
        refused = await session.call_tool("import_transcript", {"messages": [{"role": "robot", "content": "x"}]})
        assert refused.is_error
