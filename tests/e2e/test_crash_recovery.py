"""Extraction survives a crash: the real `jyntrix serve`, SIGKILLed right after a burst of turns.

Each turn's user message is stored with its pending extraction batch; after a restart on the same
data directory the API re-enqueues what nobody finished, and every fact appears exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.chat_turns import turn
from testsupport.server import embedded_server, eventually

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
