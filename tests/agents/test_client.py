"""jyntrix_client against the app (in_process deployment) through Litestar's test clients, which are httpx clients."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient, TestClient

from jyntrix_client import (
    AsyncClient,
    Client,
    Conflict,
    ContextEvent,
    ConversationEvent,
    DoneEvent,
    MemoryIn,
    MemoryType,
    NotFound,
    RateLimited,
    RetryPolicy,
    TokenEvent,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)
from jyntrix_client.calls import retry_after_s
from jyntrix_client.types import ImportOutcome
from jyntrix_domain.signals import SIGNAL_NAMES
from jyntrix_http.app import create_app
from jyntrix_http.auth import mint_token
from testsupport.app import SECRET, make_settings


def _token(user: str) -> str:
    return mint_token(SECRET, user)


@pytest.fixture
def jx(app_client: TestClient) -> Client:
    return Client("http://testserver.local", _token(f"user-{uuid.uuid4()}"), http=app_client)


def test_remember_search_update_supersede_history_forget(jx: Client) -> None:
    created = jx.remember("My sister Maya lives in Lisbon.", entities=["Maya", "Lisbon"])
    assert created.type is MemoryType.SEMANTIC
    assert jx.get_memory(created.id).content == created.content

    found = jx.search("Where does Maya live?").results
    assert found[0].memory.id == created.id
    assert set(found[0].scores.signals.as_dict()) == set(SIGNAL_NAMES)

    edited = jx.update_memory(created.id, reliability=0.95)
    assert edited.reliability == 0.95
    newer = jx.supersede(created.id, "My sister Maya lives in Porto.")
    assert jx.get_memory(created.id).superseded_by == newer.id
    assert jx.history(created.id)[0].kind.value == "create"

    jx.forget(newer.id)
    with pytest.raises(NotFound) as caught:
        jx.get_memory(newer.id)
    assert caught.value.status == 404
    assert caught.value.code == "not_found"
    assert caught.value.request_id


def test_pagination_is_iterated(jx: Client) -> None:
    made = {jx.remember(f"Fact number {n} about the garden.").id for n in range(7)}
    assert jx.list_memories(limit=3).total == 7
    assert {m.id for m in jx.iter_memories(page_size=3)} == made


def test_chat_streams_typed_events(jx: Client) -> None:
    events = list(jx.chat("My sister Maya lives in Lisbon."))
    assert isinstance(events[0], ConversationEvent)
    assert isinstance(events[1], ContextEvent)
    assert any(isinstance(e, TokenEvent) for e in events)
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert done.conversation_id == events[0].id
    texts = [m.content for m in jx.messages(done.conversation_id)]
    assert texts[0] == "My sister Maya lives in Lisbon."
    assert [c.id for c in jx.iter_conversations(page_size=1)] == [done.conversation_id]


def test_profile_update_import_export_conversation_delete_and_forget_all(jx: Client) -> None:
    kept = jx.remember("My sister Maya lives in Lisbon.")
    said = list(jx.chat("I play the cello."))[-1]
    assert isinstance(said, DoneEvent)

    assert jx.update_profile(display_name="Ada", preferences={"tone": "brief"}).preferences == {"tone": "brief"}
    view = jx.update_profile(preferences={"tone": None})
    assert (view.display_name, view.preferences) == ("Ada", {})

    dated = MemoryIn(
        content="Ada moved to Lisbon in 2021.", id="moved-2021", created_at=datetime(2021, 3, 1, tzinfo=UTC)
    )
    first = jx.import_memories([dated])
    assert (first.imported, first.items[0].outcome) == (1, ImportOutcome.CREATED)
    assert jx.import_memories([dated]).items[0].outcome is ImportOutcome.UNCHANGED

    exported = jx.export()
    assert {kept.id, "moved-2021"} <= {m.id for m in exported.memories}
    assert exported.history[kept.id][0].kind.value == "create"
    assert exported.profile is not None and exported.profile.display_name == "Ada"

    jx.delete_conversation(said.conversation_id)
    with pytest.raises(NotFound):
        jx.messages(said.conversation_id)
    assert list(jx.iter_conversations()) == []

    with pytest.raises(ValidationFailed):
        jx.forget_all(confirm=False)
    assert jx.get_memory(kept.id).id == kept.id
    forgotten = jx.forget_all(confirm=True)
    assert forgotten.memories >= 2
    assert jx.list_memories().total == 0
    assert jx.export().memories == []


def test_chat_in_an_unknown_conversation_raises_before_any_event(jx: Client) -> None:
    with pytest.raises(NotFound):
        next(iter(jx.chat("hello", conversation_id="no-such-conversation")))


def test_problem_documents_become_typed_exceptions(app_client: TestClient, jx: Client) -> None:
    with pytest.raises(ValidationFailed) as caught:
        jx.remember("x", reliability=2.0)
    assert caught.value.status == 422
    assert caught.value.errors
    stranger = Client("http://testserver.local", "not-a-token", http=app_client)
    with pytest.raises(Unauthorized) as refused:
        stranger.profile()
    assert refused.value.status == 401


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"content": ""}, "content"),
        ({"created_at": datetime(2025, 1, 5)}, "created_at"),  # no timezone
        ({"created_at": datetime(1800, 1, 5, tzinfo=UTC)}, "created_at"),  # the server's own check, past annotations
        ({"metadata": {"a": _nested(40)}}, "metadata"),
    ],
    ids=["empty", "naive-time", "year-1800", "deep-metadata"],
)
def test_the_server_not_the_client_refuses_a_body_that_breaks_a_limit(
    jx: Client, fields: dict[str, Any], field: str
) -> None:
    """The client sends the struct the server decodes; its limits are checked there, and come back as a 422."""
    with pytest.raises(ValidationFailed) as caught:
        jx.remember(**{"content": "x", **fields})
    assert caught.value.status == 422
    assert any(field in f"{e.key}: {e.message}" for e in caught.value.errors)


def test_a_429_is_retried_after_retry_after_within_the_callers_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, rate_limit_requests=2, rate_limit_window_s=1.0)
    with TestClient(create_app(settings)) as app_client:
        token = _token(f"user-{uuid.uuid4()}")
        patient = Client("http://testserver.local", token, http=app_client, retry=RetryPolicy(max_retries=3))
        impatient = Client("http://testserver.local", token, http=app_client, retry=RetryPolicy(max_retries=0))
        patient.profile()
        patient.profile()
        with pytest.raises(RateLimited) as caught:
            impatient.profile()
        assert caught.value.status == 429
        assert caught.value.retry_after_s is not None
        # The same limit, with retries allowed: waits out the window and succeeds.
        assert patient.profile().memories == []


def test_a_503_is_retried_and_then_raised() -> None:
    answers = iter([503, 503, 200, 503, 503, 503])

    def server(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 503:
            problem = {
                "type": "urn:jyntrix:problem:unavailable",
                "title": "Service unavailable",
                "status": 503,
                "code": "unavailable",
                "request_id": "r-1",
                "detail": "the database did not answer",
            }
            return httpx.Response(503, json=problem, headers={"Retry-After": "0"})
        view = {"user_id": "u", "display_name": None, "preferences": {}, "memories": [], "updated_at": None}
        return httpx.Response(200, json=view)

    http = httpx.Client(base_url="http://jyntrix.test", transport=httpx.MockTransport(server))
    jx = Client("http://jyntrix.test", "token", http=http, retry=RetryPolicy(max_retries=2))
    assert jx.profile().user_id == "u"
    with pytest.raises(Unavailable) as caught:
        jx.profile()
    assert (caught.value.code, caught.value.request_id) == ("unavailable", "r-1")


def test_export_and_restore_move_an_account_to_another_user(app_client: TestClient, jx: Client) -> None:
    older = jx.remember("I live in Berlin")
    newer = jx.supersede(older.id, "I live in Amsterdam")
    turn = list(jx.chat("My sister Maya lives in Lisbon."))
    conversation = next(e.id for e in turn if isinstance(e, ConversationEvent))
    exported = jx.export()
    assert [c.id for c in exported.conversations] == [conversation]
    assert [m.role.value for m in exported.conversations[0].messages] == ["user", "assistant"]

    other = Client("http://testserver.local", _token(f"user-{uuid.uuid4()}"), http=app_client)
    report = other.restore(exported)
    assert report.restored.memories == len(exported.memories)
    assert (report.restored.conversations, report.restored.messages) == (1, 2)
    assert other.get_memory(older.id).superseded_by == newer.id
    assert [m.content for m in other.messages(conversation)] == [m.content for m in exported.conversations[0].messages]
    assert other.restore(exported).unchanged == report.restored
    other.remember("Something only the other account holds")
    with pytest.raises(Conflict):
        other.restore(exported)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_s("3") == 3.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:05 GMT", now=None) == 0.0
    assert retry_after_s("garbage") is None


async def test_the_async_client_does_the_same(tmp_path: Path) -> None:
    async with AsyncTestClient(create_app(make_settings(tmp_path))) as app_client:
        jx = AsyncClient("http://testserver.local", _token(f"user-{uuid.uuid4()}"), http=app_client)
        created = await jx.remember("My sister Maya lives in Lisbon.")
        assert (await jx.search("Maya")).results[0].memory.id == created.id
        assert [m.id async for m in jx.iter_memories(page_size=1)] == [created.id]
        events = [event async for event in jx.chat("Where does my sister live?")]
        assert isinstance(events[-1], DoneEvent)
        with pytest.raises(NotFound):
            await jx.get_memory("missing")
        exported = await jx.export()
        assert {m.id for m in exported.memories} >= {created.id}
        elsewhere = AsyncClient("http://testserver.local", _token(f"user-{uuid.uuid4()}"), http=app_client)
        report = await elsewhere.restore(exported)
        assert report.restored.memories == len(exported.memories)
        assert (await elsewhere.get_memory(created.id)).content == created.content

        assert (await jx.update_profile(display_name="Ada")).display_name == "Ada"
        imported = await jx.import_memories([MemoryIn(content="Ada keeps bees.", id="bees")])
        assert imported.imported == 1
        assert {m.id for m in (await jx.export()).memories} >= {created.id, "bees"}
        await jx.delete_conversation(events[-1].conversation_id)
        assert [c async for c in jx.iter_conversations()] == []
        assert (await jx.forget_all(confirm=True)).memories >= 2
        assert (await jx.list_memories()).total == 0
