"""Races around a chat turn or an import, on both deployments (issue 23, findings 2 and 6).

Concurrent first tries of one `message_id` converge on one conversation and one answer; a delete-all
that lands while a turn is being set up, or while an import writes its turns, leaves nothing of the
user, whatever was in flight. Request loops are bounded; nothing here measures time.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_adapters.inprocess.vector_index import InProcessVectorIndex
from jyntrix_http.app import create_app
from tests.adversarial.conftest import SyncClient, sse_events
from tests.adversarial.served import adversarial_settings
from tests.adversarial.test_races import HeldEmbedder, at_once, on_app_loop, post, served_with, until
from testsupport.app import bearer, drain_tasks, services_of
from testsupport.scripted_language_model import ScriptedLanguageModel

TRIALS = 5
AT = "2025-03-01T10:00:00Z"


@pytest.fixture(params=["in_process", "embedded"])
def counting(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SyncClient]:
    """The app with a model whose every answer is new ("Answer 1.", "Answer 2.", ...): two answers would show."""
    numbers = itertools.count(1)
    model = ScriptedLanguageModel(lambda prompt: f"Answer {next(numbers)}.", delay_s=0.001)
    yield from served_with(request, tmp_path, llm=model)


def turn_of(response: httpx.Response) -> tuple[str, str, str]:
    """(conversation id, answer message id, answer text) of a streamed turn that ended in `done`."""
    assert response.status_code == 200, response.text
    events = sse_events(response.text)
    assert events[-1][0] == "done", events
    answer = "".join(data["delta"] for name, data in events if name == "token")
    return events[0][1]["id"], events[-1][1]["message_id"], answer


def test_concurrent_first_tries_of_one_message_id_converge_on_one_conversation_and_answer(
    counting: SyncClient,
) -> None:
    api = counting
    for _ in range(TRIALS):
        headers = bearer(f"fork-{uuid.uuid4()}")
        body = {"content": "My sister Maya lives in Lisbon.", "message_id": f"m-{uuid.uuid4()}"}
        responses = at_once(api, [post("/api/chat/messages/stream", body, headers)] * 3)
        turns = {turn_of(r) for r in responses}
        assert len(turns) == 1, turns
        ((conversation_id, _, answer),) = turns
        conversations = api.get("/api/chat/conversations", headers=headers).json()["items"]
        assert [c["id"] for c in conversations] == [conversation_id]
        messages = api.get(f"/api/chat/conversations/{conversation_id}/messages", headers=headers).json()["items"]
        assert [(m["role"], m["content"]) for m in messages] == [("user", body["content"]), ("assistant", answer)]


def test_concurrent_first_tries_in_two_conversations_answer_in_one_and_refuse_the_other(
    counting: SyncClient,
) -> None:
    api = counting
    headers = bearer(f"fork-{uuid.uuid4()}")
    rooms = [api.post("/api/chat/conversations", json={}, headers=headers).json()["id"] for _ in range(2)]
    body = {"content": "I adopted a cat called Miso.", "message_id": f"m-{uuid.uuid4()}"}

    def send(room: str) -> Any:
        return lambda c: c.post(f"/api/chat/conversations/{room}/messages/stream", json=body, headers=headers)

    responses = at_once(api, [send(room) for room in rooms])
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    answered = rooms[[r.status_code for r in responses].index(200)]
    for room in rooms:
        messages = api.get(f"/api/chat/conversations/{room}/messages", headers=headers).json()["items"]
        assert [m["role"] for m in messages] == (["user", "assistant"] if room == answered else [])


@pytest.fixture(params=["in_process", "embedded"])
def held(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SyncClient, HeldEmbedder]]:
    """The app whose embedder holds any text with HOLD (a turn held in its setup, after its message is stored),
    on the embedded deployment with its real stores and indexes."""
    embedder = HeldEmbedder()
    for client in served_with(request, tmp_path, ("storage", "vectors", "keywords"), base_embedder=embedder):
        yield client, embedder


async def _delete_all_meanwhile(
    client: httpx.AsyncClient, headers: dict[str, str], embedder: HeldEmbedder
) -> httpx.Response:
    """A delete-all sent while the embedder holds a setup; the setup is let go once the deletion is under way."""
    forgetting = asyncio.create_task(client.delete("/api/memories?confirm=true", headers=headers))
    for _ in range(50):  # bounded: long enough for the deletion to be waiting for the setup, or done
        if forgetting.done():
            break
        await asyncio.sleep(0.01)
    embedder.release.set()
    return await asyncio.wait_for(forgetting, 30)


def test_delete_all_during_a_turns_setup_leaves_nothing_of_the_user(held: tuple[SyncClient, HeldEmbedder]) -> None:
    api, embedder = held
    user_id = f"forgetful-{uuid.uuid4()}"
    headers = bearer(user_id)

    async def run(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        said = {"content": "HOLD My sister Maya lives in Lisbon."}
        turn = asyncio.create_task(client.post("/api/chat/messages/stream", json=said, headers=headers))
        await until(lambda: embedder.held == 1)
        forgot = await _delete_all_meanwhile(client, headers, embedder)
        return await asyncio.wait_for(turn, 30), forgot

    streamed, forgot = on_app_loop(api, run)
    assert forgot.status_code == 200, forgot.text
    # The deletion waits for the setup in this process (UserGate); the turn then ends in either order.
    name, last = sse_events(streamed.text)[-1]
    assert name == "done" or (name, last["code"]) == ("error", "not_found"), last
    drain_tasks(api)
    assert api.get("/api/memories?current_only=false", headers=headers).json()["total"] == 0
    assert api.get("/api/chat/conversations", headers=headers).json()["items"] == []
    found = api.post("/api/memories/search", json={"query": "Maya Lisbon sister"}, headers=headers).json()
    assert found["results"] == []
    backends = services_of(api).backends

    async def indexed() -> tuple[list[Any], list[Any]]:
        vector = await HashEmbedder().embed_query("My sister Maya lives in Lisbon.")
        vectors = await backends["vector_index"].adapter.search(user_id, vector, 10)
        return vectors, await backends["keyword_index"].adapter.search(user_id, "Maya Lisbon sister", 10)

    assert api.blocking_portal.call(indexed) == ([], [])


def test_delete_all_during_a_transcript_import_leaves_nothing_of_the_user(
    held: tuple[SyncClient, HeldEmbedder],
) -> None:
    api, embedder = held
    headers = bearer(f"forgetful-{uuid.uuid4()}")
    said = [
        {"role": "user", "content": f"HOLD My sister Maya lives in Lisbon, note {i}.", "created_at": AT}
        for i in range(3)
    ]

    async def run(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        body = {"messages": said}
        imported = asyncio.create_task(client.post("/api/chat/conversations/import", json=body, headers=headers))
        await until(lambda: embedder.held == 1)  # its messages are stored; its turns are being embedded
        forgot = await _delete_all_meanwhile(client, headers, embedder)
        return await asyncio.wait_for(imported, 30), forgot

    imported, forgot = on_app_loop(api, run)
    assert forgot.status_code == 200, forgot.text
    assert imported.status_code in (201, 404), imported.text  # 201 here: the deletion waits for the import
    drain_tasks(api)
    assert api.get("/api/memories?current_only=false", headers=headers).json()["total"] == 0
    assert api.get("/api/chat/conversations", headers=headers).json()["items"] == []
    assert api.get("/api/memories/export", headers=headers).json()["entities"] == []


class HeldForgetting(InProcessVectorIndex):
    """A vector index whose forget_user waits for `release`: a delete-all held half-way, its conversations
    deleted already and the memory store not yet."""

    def __init__(self) -> None:
        super().__init__()
        self.forgetting = asyncio.Event()
        self.release = asyncio.Event()

    async def forget_user(self, user_id: str) -> None:
        self.forgetting.set()
        await self.release.wait()
        await super().forget_user(user_id)


def test_a_turn_begun_while_a_delete_all_runs_is_set_up_after_it_whole(tmp_path: Path) -> None:
    vectors = HeldForgetting()
    headers = bearer(f"forgetful-{uuid.uuid4()}")
    with TestClient(create_app(adversarial_settings(tmp_path), overrides={"vectors": vectors})) as api:

        async def run(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
            forgetting = asyncio.create_task(client.delete("/api/memories?confirm=true", headers=headers))
            await asyncio.wait_for(vectors.forgetting.wait(), 30)
            said = {"content": "My sister Maya lives in Lisbon."}
            turn = asyncio.create_task(client.post("/api/chat/messages/stream", json=said, headers=headers))
            for _ in range(200):  # bounded: the turn may run to its end meanwhile, or wait for the deletion
                if turn.done():
                    break
                await asyncio.sleep(0.01)
            vectors.release.set()
            return await asyncio.wait_for(turn, 30), await asyncio.wait_for(forgetting, 30)

        streamed, forgot = on_app_loop(api, run)
        assert forgot.json() == {"memories": 0, "conversations": 0}
        assert sse_events(streamed.text)[-1][0] == "done"
        drain_tasks(api)
        # The turn came after the deletion, whole: its conversation, both messages and its turn memory.
        (conversation,) = api.get("/api/chat/conversations", headers=headers).json()["items"]
        path = f"/api/chat/conversations/{conversation['id']}/messages"
        assert [m["role"] for m in api.get(path, headers=headers).json()["items"]] == ["user", "assistant"]
        turns = api.get("/api/memories", params={"kind": "turn"}, headers=headers).json()["items"]
        assert [m["content"] for m in turns] == ["My sister Maya lives in Lisbon."]
