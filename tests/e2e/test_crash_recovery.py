"""Extraction survives a crash: the real `jyntrix serve`, SIGKILLed right after a burst of turns.

Each turn's user message is stored with its pending extraction batch; after a restart on the same
data directory the API re-enqueues what nobody finished, and every fact appears exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.chat_turns import turn
from testsupport.postgres import server_parent_dir
from testsupport.server import Server, embedded_server, eventually

pytestmark = pytest.mark.slow

WAIT_S = 90.0


async def test_extraction_survives_a_sigkill_right_after_a_burst(tmp_path: Path, minilm_model_dir: Path) -> None:
    server = embedded_server(tmp_path, minilm_model_dir, OFFLINE_LLM_TOKEN_DELAY_S="0")
    server.start()
    headers = server.token("crash-user")
    people = [f"Friend{chr(65 + i)}" for i in range(20)]
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            await asyncio.gather(*(turn(client, headers, f"My friend {p} lives in Lisbon.") for p in people))
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        server.start()  # the same data directory: the orphaned Postgres is reused or stopped, never doubled
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:

            async def all_facts() -> list[dict[str, Any]] | None:
                items = (
                    await client.get("/api/memories?kind=fact&current_only=false&limit=200", headers=headers)
                ).json()["items"]
                named = [m for m in items if any(p in m["content"] for p in people)]
                return named if {p for p in people if any(p in m["content"] for m in named)} == set(people) else None

            facts = await eventually(all_facts, "every fact after the restart", WAIT_S)
            counts = Counter(m["content"] for m in facts)
            assert all(n == 1 for n in counts.values()), counts
    finally:
        server.stop()


def _long_history() -> dict[str, Any]:
    """600 messages, the user's each with a fact of its own, the assistant's each naming a friend: 600 turns."""
    start = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    said = []
    for i in range(600):
        who = "Friend" + "".join(chr(97 + i // 26**k % 26) for k in (2, 1, 0))  # a name of its own
        said.append(
            {
                "role": "user" if i % 2 == 0 else "assistant",
                "content": f"My friend {who} lives in Lisbon." if i % 2 == 0 else f"Noted, {who}.",
                "created_at": (start + timedelta(minutes=i)).isoformat(),
            }
        )
    return {"title": "a long history", "messages": said}


async def test_an_import_cut_by_a_sigkill_is_finished_after_the_restart(minilm_model_dir: Path) -> None:
    """Killed once every message is stored, while the turns are still being written (unacknowledged)."""
    with server_parent_dir() as directory:
        # The polls below are many requests of one user: past the default rate limit.
        server = embedded_server(
            directory, minilm_model_dir, OFFLINE_LLM_TOKEN_DELAY_S="0", RATE_LIMIT_REQUESTS="100000"
        )
        await _import_killed_and_restarted(server)


async def _import_killed_and_restarted(server: Server) -> None:
    server.start()
    headers = server.token("import-crash-user")
    body = _long_history()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            sending = asyncio.create_task(client.post("/api/chat/conversations/import", json=body, headers=headers))

            async def all_messages_stored() -> str | None:
                conversations = (await client.get("/api/chat/conversations", headers=headers)).json()["items"]
                if not conversations:
                    return None
                path = f"/api/chat/conversations/{conversations[0]['id']}/messages"
                latest = (await client.get(path, params={"limit": 1}, headers=headers)).json()["items"]
                done = latest and latest[0]["content"] == body["messages"][-1]["content"]
                return str(conversations[0]["id"]) if done else None

            conversation_id = await eventually(all_messages_stored, "the import's messages", WAIT_S)
            assert server.process is not None
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait()
            with pytest.raises(httpx.HTTPError):
                await sending
        server.start()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:

            async def finished() -> dict[str, Any] | None:
                detail = (await client.get(f"/api/chat/conversations/{conversation_id}", headers=headers)).json()
                return detail if detail["extraction"]["finished"] else None

            # 30 batches to finish (turns, then facts) on a machine that may be busy: a generous bound.
            await eventually(finished, "the import's extraction after the restart", 4 * WAIT_S)
            turns = {"kind": "turn", "current_only": "false", "limit": 1}
            assert (await client.get("/api/memories", params=turns, headers=headers)).json()["total"] == 600
            facts = {"kind": "fact", "current_only": "false", "limit": 1, "contains": "lives in Lisbon"}
            assert (await client.get("/api/memories", params=facts, headers=headers)).json()["total"] > 0
    finally:
        server.stop()
