"""Transcript import through the real server on the embedded default (no model key, no service).

A transcript imported with its own times is stored at once, extracted in the background with the
messages' times as "now", and importing it again adds nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testsupport.server import Server, eventually, free_port, server_env

pytestmark = pytest.mark.slow

WAIT_S = 90.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, minilm_model_dir: Path) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("jyntrix-remember")
    port = free_port()
    env = server_env(data_dir / "data", port, minilm_model_dir, OFFLINE_LLM_TOKEN_DELAY_S="0")
    running = Server(base_url=f"http://127.0.0.1:{port}", env=env, log_path=data_dir / "server.log")
    running.start()
    try:
        yield running
    finally:
        running.stop()


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
        assert Counter(m["kind"] for m in listed)["turn"] == 2  # assistant messages are not memories
        facts = [m for m in listed if m["kind"] == "fact"]
        assert any("Lisbon" in m["content"] for m in facts), facts
        # "in April", said on 2023-05-08, is April 2023, not this year's.
        rome = [m for m in facts if "Rome" in m["content"]]
        assert all(m["valid_from"].startswith("2023") for m in rome), rome
