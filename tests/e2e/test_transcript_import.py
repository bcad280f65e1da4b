"""Transcript import through the real server on the embedded default (no model key, no service).

A transcript imported with its own times is stored at once, extracted in the background with the
messages' times as "now", and importing it again adds nothing; `jyntrix import` finds the running
server on any port, and names the held data directory in two lines when it cannot reach one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testsupport.server import Server, eventually, serving_in, stale_serving_file

pytestmark = pytest.mark.slow

WAIT_S = 90.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, minilm_model_dir: Path) -> Iterator[Server]:
    yield from serving_in(tmp_path_factory, "jyntrix-import", minilm_model_dir, OFFLINE_LLM_TOKEN_DELAY_S="0")


def transcript() -> dict[str, Any]:
    return {
        "title": "Catching up",
        "messages": [
            {
                "role": "user",
                "name": "Caroline",
                "content": "I went to Rome in April, the food was amazing.",
                "created_at": "2023-05-08T13:56:00Z",
                "id": "locomo-like-1",
            },
            {
                "role": "user",
                "name": "Melanie",
                "content": "My sister Maya lives in Lisbon.",
                "created_at": "2023-05-08T13:57:00Z",
                "id": "locomo-like-2",
            },
            {"role": "assistant", "content": "Noted!", "created_at": "2023-05-08T13:58:00Z", "id": "locomo-like-3"},
        ],
    }


async def test_a_transcript_import_is_stored_at_once_and_extracted_with_its_own_times(server: Server) -> None:
    headers = server.token("import-user")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        first = await client.post("/api/chat/conversations/import", json=transcript(), headers=headers)
        assert first.status_code == 201, first.text
        body = first.json()
        assert len(body["message_ids"]) == 3
        # Turn memories are stored and indexed by the time the route answers: searchable at once.
        found = (await client.post("/api/memories/search", json={"query": "Rome food"}, headers=headers)).json()
        assert found["results"][0]["memory"]["content"] == "Caroline: I went to Rome in April, the food was amazing."
        assert found["results"][0]["memory"]["created_at"].startswith("2023-05-08")

        async def finished() -> bool:
            conversation = await client.get(f"/api/chat/conversations/{body['conversation_id']}", headers=headers)
            return bool(conversation.json()["extraction"]["finished"])

        await eventually(finished, "extraction of the import", WAIT_S)
        again = await client.post("/api/chat/conversations/import", json=transcript(), headers=headers)
        assert again.status_code in (200, 201)
        assert again.json()["conversation_id"] == body["conversation_id"]
        assert again.json()["message_ids"] == body["message_ids"]
        listed = (await client.get("/api/memories?current_only=false&limit=200", headers=headers)).json()["items"]
        # Every message is what was said, the assistant's "Noted!" too; the repeated import added none.
        assert Counter(m["kind"] for m in listed)["turn"] == 3
        facts = [m for m in listed if m["kind"] == "fact"]
        assert any("Lisbon" in m["content"] for m in facts), facts
        # "in April", said on 2023-05-08, is April 2023, not this year's.
        rome = [m for m in facts if "Rome" in m["content"]]
        assert all(m["valid_from"].startswith("2023") for m in rome), rome


def run_import(server: Server, file: Path, user: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jyntrix_cli.cli", "import", str(file), "--user", user],
        env={**server.env, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_jyntrix_import_finds_the_running_server_on_any_port_and_a_held_data_directory_is_named(
    server: Server, tmp_path: Path
) -> None:
    file = tmp_path / "history.json"
    file.write_text(json.dumps(transcript()))
    # No JYNTRIX_URL, and PORT names another port: the server's serving file in the data directory leads there.
    done = run_import(server, file, "cli-user", PORT="1")
    assert done.returncode == 0, done.stderr
    assert f"Imported 3 messages in 1 conversations into {server.base_url}" in done.stdout
    headers = server.token("cli-user")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        turns = (await client.get("/api/memories?kind=turn", headers=headers)).json()["items"]
    assert sorted(t["content"] for t in turns) == [
        "Caroline: I went to Rome in April, the food was amazing.",
        "Melanie: My sister Maya lives in Lisbon.",
        "Noted!",
    ]
    # A serving file left by a server that is gone leads nowhere: the data directory is tried, it is the running
    # server's, and the command says so in two lines naming what to set.
    with stale_serving_file(server):
        held = run_import(server, file, "cli-user")
    assert held.returncode == 2
    lines = held.stderr.strip().splitlines()
    assert len(lines) == 2, held.stderr
    assert "could not open the data directory" in lines[0] and "JYNTRIX_URL" in lines[1]
