"""The embedded default summarises an idle conversation, as the worker does: the in-process queue runs the same
handlers, bound to itself, so an extraction schedules its conversation's summary there."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
from litestar.testing import AsyncTestClient

from jyntrix_http.app import create_app
from tests.http.chat_turns import stream_turn
from testsupport.app import bearer, drain_tasks, make_settings

IDLE_S = 0.3


async def test_an_idle_conversation_is_summarised_once_and_again_after_it_goes_on(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings = msgspec.structs.replace(settings, worker=msgspec.structs.replace(settings.worker, summary_idle_s=IDLE_S))
    headers = bearer("idle-user")
    async with AsyncTestClient(create_app(settings)) as client:
        _, events = await stream_turn(client, headers, "I spent the weekend hiking in the Alps with my brother.")
        conversation = events[0].data["id"]
        drain_tasks(client)  # the extraction, which schedules the summary for when the chat has stayed idle

        async def summaries() -> list[dict[str, object]]:
            listed = await client.get("/api/memories?kind=summary&current_only=false", headers=headers)
            items: list[dict[str, object]] = listed.json()["items"]
            return items

        assert await summaries() == []  # not before the conversation has been idle that long
        for _ in range(50):
            await asyncio.sleep(IDLE_S / 3)
            if await summaries():
                break
        (first,) = await summaries()
        assert "Alps" in str(first["content"]) and first["place"]["conversation_id"] == conversation  # type: ignore[index]

        await stream_turn(client, headers, "We also saw ibexes near the hut.", conversation_id=conversation)
        drain_tasks(client)
        for _ in range(50):
            await asyncio.sleep(IDLE_S / 3)
            if len(await summaries()) == 2:
                break
        both = await summaries()
        # The newer summary replaced the older one, which is kept (ended) but leaves search.
        assert sorted(s["current"] for s in both) == [False, True]  # type: ignore[type-var]
