"""Run by the fresh venv's Python in tests/client/test_wheel.py: the installed wheel against a real server.

It checks where jyntrix_client came from and that no server package can be imported, then goes through
the client's calls, sync and async, and prints one JSON object of what it saw for the test to assert on.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys

import jyntrix_client
from jyntrix_client import AsyncClient, Client, ContextEvent, DoneEvent, JyntrixError, TokenEvent


def main(base_url: str, token: str) -> dict[str, object]:
    seen: dict[str, object] = {
        "client_file": jyntrix_client.__file__,
        "importable": [
            name
            for name in ("jyntrix_domain", "jyntrix_http", "jyntrix_bootstrap", "litestar", "asyncpg", "numpy")
            if importlib.util.find_spec(name) is not None
        ],
    }
    with Client(base_url, token) as jx:
        made = jx.remember("My sister Maya lives in Lisbon.", entities=["Maya", "Lisbon"])
        seen["search_first"] = jx.search("Where does Maya live?").results[0].memory.id == made.id
        events = list(jx.chat("Where does my sister live?"))
        seen["events"] = [type(e).__name__ for e in events if not isinstance(e, TokenEvent)]
        context = next(e for e in events if isinstance(e, ContextEvent))
        seen["context_has_memory"] = made.id in [m.id for m in context.memories]
        seen["answer"] = "".join(e.delta for e in events if isinstance(e, TokenEvent))
        done = events[-1]
        assert isinstance(done, DoneEvent)
        seen["display_name"] = jx.update_profile(display_name="Ada").display_name
        exported = jx.export()
        seen["exported"] = made.id in [m.id for m in exported.memories]
        jx.delete_conversation(done.conversation_id)
        seen["conversations_after_delete"] = len(list(jx.iter_conversations()))
        try:
            jx.forget_all(confirm=False)
        except JyntrixError as refused:
            seen["unconfirmed"] = [refused.status, refused.code]
    seen["async_forgotten"] = asyncio.run(_forget_all(base_url, token))
    return seen


async def _forget_all(base_url: str, token: str) -> list[int]:
    async with AsyncClient(base_url, token) as jx:
        forgotten = await jx.forget_all(confirm=True)
        left = (await jx.list_memories()).total
        return [forgotten.memories, left]


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
