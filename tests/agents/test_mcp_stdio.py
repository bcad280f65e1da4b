"""`jyntrix mcp` over stdio, a real subprocess, through the `mcp` SDK's own client session."""

from __future__ import annotations

import uuid
from pathlib import Path

from jyntrix_http.auth import mint_token
from tests.agents.conftest import LiveApp
from tests.agents.stdio import mcp_env, run_mcp, stdio_session
from tests.agents.test_mcp_http import TOOLS, call
from testsupport.app import SECRET
from testsupport.server import free_port


async def test_in_its_own_process_it_lists_tools_remembers_and_recalls(tmp_path: Path) -> None:
    env = mcp_env(JYNTRIX_DEPLOYMENT="in_process", JYNTRIX_DATA_DIR=str(tmp_path))
    async with stdio_session(env, "--user", "alice") as session:
        assert {tool.name for tool in (await session.list_tools()).tools} == TOOLS
        made = await call(session, "remember", content="My sister Maya lives in Lisbon.")
        found = await call(session, "recall", query="Where does my sister Maya live?")
        assert found["results"][0]["id"] == made["id"]
        refused = await session.call_tool("recall", {"query": ""})
        assert refused.is_error
        assert (await call(session, "list_memories"))["total"] == 1  # still serving after the error


async def test_with_a_url_it_talks_to_the_running_server_across_sessions(live_app: LiveApp) -> None:
    user = f"user-{uuid.uuid4()}"
    env = mcp_env(
        JYNTRIX_URL=live_app.base_url, JYNTRIX_TOKEN=mint_token(SECRET, user), JYNTRIX_DEPLOYMENT="in_process"
    )
    async with stdio_session(env) as session:
        made = await call(session, "remember", content="I keep bees on the roof.")
    async with stdio_session(env) as session:
        found = await call(session, "recall", query="bees")
        assert [r["id"] for r in found["results"]] == [made["id"]]
    # The same memory, seen through the server's own REST API: it is the server's user, not a local copy.
    async with stdio_session(
        mcp_env(
            JYNTRIX_URL=live_app.base_url,
            JYNTRIX_TOKEN=mint_token(SECRET, "someone-else"),
            JYNTRIX_DEPLOYMENT="in_process",
        )
    ) as session:
        assert (await call(session, "recall", query="bees"))["results"] == []


def test_without_a_user_or_a_url_it_says_what_is_missing(tmp_path: Path) -> None:
    result = run_mcp(mcp_env(JYNTRIX_DEPLOYMENT="in_process", JYNTRIX_DATA_DIR=str(tmp_path)))
    assert result.returncode == 2
    assert "--user is required to open the data directory" in result.stderr and "JYNTRIX_URL" in result.stderr


def test_a_url_without_a_token_or_a_secret_says_to_set_the_token(tmp_path: Path) -> None:
    env = mcp_env(JYNTRIX_URL="http://127.0.0.1:9", JYNTRIX_DEPLOYMENT="in_process", JYNTRIX_DATA_DIR=str(tmp_path))
    result = run_mcp(env)
    assert result.returncode == 2
    assert "JYNTRIX_TOKEN" in result.stderr


def test_a_url_where_nothing_answers_says_so_in_one_line(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    env = mcp_env(
        JYNTRIX_URL=dead,
        JYNTRIX_TOKEN=mint_token(SECRET, "alice"),
        JYNTRIX_DEPLOYMENT="in_process",
        JYNTRIX_DATA_DIR=str(tmp_path),
    )
    result = run_mcp(env)
    assert result.returncode == 2
    said = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and f"no server answers at {dead}" in said[0] and "JYNTRIX_URL" in said[0], result.stderr
