"""`jyntrix import` and `jyntrix mcp` find the server serving their data directory on any port, and only a live one."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from jyntrix_bootstrap.settings import Settings
from jyntrix_cli.cli import build_parser
from jyntrix_cli.import_command import import_transcripts
from jyntrix_cli.mcp_stdio import StdioTarget, open_backend
from jyntrix_domain.model import MemoryType
from jyntrix_http.mcp_backends import ClientBackend
from jyntrix_http.server_discovery import (
    SERVING_FILE,
    Serving,
    describe_open_failure,
    find_server,
    local_url,
    remove_serving_file,
    write_serving_file,
)
from tests.agents.conftest import LiveApp, serve
from testsupport.app import bearer, make_settings
from testsupport.fake_openai import FakeOpenAI
from testsupport.server import eventually, free_port

USER = "discovering-user"


@pytest.fixture
def announced(tmp_path: Path) -> Iterator[LiveApp]:
    """The app as `jyntrix serve` runs it: it writes its serving file into the data directory."""
    yield from serve(tmp_path, announce=True)


def cli_settings(tmp_path: Path) -> Settings:
    """The commands' settings: the server's data directory, and a PORT nothing answers on."""
    return make_settings(tmp_path, port=1)


def transcript() -> dict[str, Any]:
    """As a client writes it for the route: no ids, a title."""
    return {
        "title": "Catching up",
        "messages": [
            {"role": "user", "content": "My sister Maya lives in Lisbon.", "created_at": "2023-05-08T13:56:00+02:00"},
            {"role": "assistant", "content": "Noted!", "created_at": "2023-05-08T13:57:00+02:00"},
            {"role": "user", "content": "I adopted a beagle.", "created_at": "2023-05-08T13:58:00+02:00"},
        ],
    }


async def stored(base_url: str) -> tuple[int, int, list[str]]:
    """The user's conversations, the messages in them, and their memories, once extraction has finished."""
    async with httpx.AsyncClient(base_url=base_url, headers=bearer(USER), timeout=30) as client:

        async def details() -> list[dict[str, Any]] | None:
            conversations = (await client.get("/api/chat/conversations")).json()["items"]
            found = [(await client.get(f"/api/chat/conversations/{c['id']}")).json() for c in conversations]
            return found if all(d["extraction"]["finished"] for d in found) else None

        found = await eventually(details, "extraction of the imported transcript")
        memories = (await client.get("/api/memories", params={"limit": 200})).json()["items"]
    return len(found), sum(len(d["messages"]) for d in found), sorted(m["content"] for m in memories)


async def test_a_served_app_says_where_it_serves_and_takes_it_back_on_shutdown(tmp_path: Path) -> None:
    settings = cli_settings(tmp_path)
    path = tmp_path / SERVING_FILE
    lives = serve(tmp_path, announce=True)
    live = next(lives)
    written = msgspec.json.decode(path.read_bytes(), type=Serving)
    assert written == Serving(url=live.base_url, pid=os.getpid())
    assert await find_server(settings) == live.base_url
    next(lives, None)  # a clean shutdown
    assert not path.exists()
    assert await find_server(settings) is None


async def test_the_same_transcript_through_the_route_then_the_cli_adds_nothing(
    announced: LiveApp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with httpx.AsyncClient(base_url=announced.base_url, headers=bearer(USER), timeout=30) as client:
        response = await client.post("/api/chat/conversations/import", json=transcript())
    assert response.status_code == 201, response.text
    before = await stored(announced.base_url)
    assert before[:2] == (1, 3)
    assert {"My sister Maya lives in Lisbon.", "I adopted a beagle."} <= set(before[2])

    file = tmp_path / "history.json"
    file.write_text(json.dumps(transcript()))
    # No --url, no JYNTRIX_URL, and PORT is another: the serving file leads the command to the server.
    args = build_parser().parse_args(["import", str(file), "--user", USER])
    assert args.url is None
    assert await asyncio.to_thread(import_transcripts, args, cli_settings(tmp_path)) == 0
    assert f"into {announced.base_url}" in capsys.readouterr().out
    assert await stored(announced.base_url) == before
    # And a second time through the command, the same.
    assert await asyncio.to_thread(import_transcripts, args, cli_settings(tmp_path)) == 0
    assert await stored(announced.base_url) == before


async def test_jyntrix_mcp_finds_the_server_too(announced: LiveApp, tmp_path: Path) -> None:
    async with open_backend(StdioTarget(user=USER, url=None, token=None), cli_settings(tmp_path)) as backend:
        assert isinstance(backend, ClientBackend)
        await backend.remember("I play the cello.", MemoryType.SEMANTIC, [], 0.9)
    async with httpx.AsyncClient(base_url=announced.base_url, headers=bearer(USER)) as client:
        listed = (await client.get("/api/memories")).json()["items"]
    assert [m["content"] for m in listed] == ["I play the cello."]


@pytest.fixture
def other_http_server() -> Iterator[str]:
    """An HTTP server that is not Jyntrix (it answers `GET /` with a 404)."""
    with FakeOpenAI() as server:
        yield server.url


async def test_a_stale_file_does_not_mislead(tmp_path: Path, other_http_server: str) -> None:
    settings = cli_settings(tmp_path)
    path = tmp_path / SERVING_FILE
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    cases = {
        "its process is gone": Serving(url=other_http_server, pid=gone.pid),
        "nothing answers at its address": Serving(url=f"http://127.0.0.1:{free_port()}", pid=os.getpid()),
        "another server answers there": Serving(url=other_http_server, pid=os.getpid()),
    }
    for case, serving in cases.items():
        path.write_bytes(msgspec.json.encode(serving))
        assert await find_server(settings) is None, case
    path.write_text("{half a file")
    assert await find_server(settings) is None


def test_a_server_leaves_another_servers_file_alone(tmp_path: Path) -> None:
    settings = cli_settings(tmp_path)
    ours = write_serving_file(settings)
    assert ours is not None
    theirs = Serving(url="http://127.0.0.1:9", pid=ours.pid + 1)
    (tmp_path / SERVING_FILE).write_bytes(msgspec.json.encode(theirs))
    remove_serving_file(settings, ours)
    assert (tmp_path / SERVING_FILE).exists()


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8123"),
        ("0.0.0.0", "http://127.0.0.1:8123"),
        ("::", "http://[::1]:8123"),
        ("::1", "http://[::1]:8123"),
        ("localhost", "http://localhost:8123"),
    ],
)
def test_a_wildcard_bind_is_reached_on_loopback(host: str, url: str) -> None:
    assert local_url(host, 8123) == url


def test_no_server_and_a_held_directory_is_said_in_two_lines(tmp_path: Path) -> None:
    held = RuntimeError(
        "VECTOR_INDEX=qdrant-edge: the shard at /data/qdrant-edge is open in another process or index. "
        "A Qdrant Edge shard serves one process: run the worker inside the API (TASK_RUNNER=in_process), "
        "give each process its own JYNTRIX_DATA_DIR, or share an index with VECTOR_INDEX=pgvector."
    )
    message = describe_open_failure(make_settings(tmp_path), held)
    lines = message.splitlines()
    assert len(lines) == 2 and all(len(line.replace(str(tmp_path), "DIR")) <= 200 for line in lines)
    assert "is open in another process" in lines[0] and str(tmp_path) in lines[0]
    assert "TASK_RUNNER" not in message
    assert "JYNTRIX_URL" in lines[1] and "JYNTRIX_TOKEN" in lines[1]
