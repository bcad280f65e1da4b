"""Export and restore through the API: a user filled through its doors, exported, forgotten and restored.

Runs on the in_process deployment and on the embedded one's stores and indexes (Postgres, Qdrant Edge, bm25s).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from jyntrix_bootstrap.settings import Deployment
from jyntrix_domain.model import entity_key
from jyntrix_domain.turn_messages import answer_id
from jyntrix_domain.turn_places import turn_memory_id
from jyntrix_http.app import create_app
from tests.http.sse import parse_events
from testsupport.app import bearer, drain_tasks, in_process_overrides, make_settings

SyncClient = TestClient[Any]


@pytest.fixture(scope="module", params=["in_process", "embedded"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncClient]:
    data_dir: Path = tmp_path_factory.mktemp("portability")
    limits = {"rate_limit_requests": 100_000}
    if request.param == "in_process":
        app = create_app(make_settings(data_dir, **limits))
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        settings = make_settings(data_dir, jyntrix_deployment=Deployment.EMBEDDED, database_url=dsn, **limits)
        app = create_app(settings, overrides=in_process_overrides("storage", "vectors", "keywords"))
    with TestClient(app) as client:
        yield client


def fill(api: SyncClient, headers: dict[str, str]) -> None:
    """A user through the API's doors: chat turns, an edited and a superseded memory, an import with a chosen id,
    a transcript, a profile, and a memory deleted."""
    said = api.post("/api/chat/messages/stream", json={"content": "My sister Maya lives in Lisbon."}, headers=headers)
    conversation = next(e.data["id"] for e in parse_events(said.text) if e.event == "conversation")
    again = {"content": "I play the cello on Sundays."}
    assert api.post(f"/api/chat/conversations/{conversation}/messages/stream", json=again, headers=headers).is_success
    felix = api.post("/api/memories", json={"content": "My cat is Felix", "entities": ["Felix"]}, headers=headers)
    assert api.delete(f"/api/memories/{felix.json()['id']}", headers=headers).status_code == 204
    berlin = api.post("/api/memories", json={"content": "I live in Berlin", "entities": ["Berlin"]}, headers=headers)
    berlin_id = berlin.json()["id"]
    assert api.patch(f"/api/memories/{berlin_id}", json={"reliability": 0.9}, headers=headers).is_success
    moved = {"content": "I live in Amsterdam", "entities": ["Amsterdam"]}
    assert api.post(f"/api/memories/{berlin_id}/supersede", json=moved, headers=headers).status_code == 201
    chosen = {"id": "doc-1", "content": "My dentist is Dr. Okafor", "metadata": {"from": "notes", "n": [1, None]}}
    assert api.post("/api/memories/import", json={"memories": [chosen]}, headers=headers).status_code == 201
    transcript = {
        "title": "Trip planning",
        "messages": [
            {"role": "user", "content": "We are going to Kyoto in April.", "created_at": "2025-02-01T10:00:00Z"},
            {"role": "assistant", "content": "Kyoto in April is lovely.", "created_at": "2025-02-01T10:00:05Z"},
            {"role": "user", "content": "Tom wants to see the temples.", "created_at": "2025-02-01T10:01:00Z"},
        ],
    }
    assert api.post("/api/chat/conversations/import", json=transcript, headers=headers).status_code == 201
    profile = {"display_name": "Nina", "preferences": {"tone": "brief"}}
    assert api.patch("/api/profile", json=profile, headers=headers).is_success
    drain_tasks(api)  # extraction of the turns and the transcript


def export(api: SyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = api.get("/api/memories/export", headers=headers)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def orphans(document: dict[str, Any]) -> list[str]:
    """Entities no memory of the export names: left in the graph by a deleted one. A restore rebuilds the graph
    from the memories, so these are what an export and its restore legitimately differ in."""
    named = {entity_key(n) for m in document["memories"] for n in m["entities"]}
    named |= {entity_key(end) for r in document["relations"] for end in (r["source"], r["target"])}
    return sorted(e["name"] for e in document["entities"] if entity_key(e["name"]) not in named)


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """An export without its time of export and its orphan entities, its lists in a stable order (memories of
    one time are listed by id, which a move to another user may change)."""
    rest = {k: v for k, v in document.items() if k != "exported_at"}
    rest["memories"] = sorted(rest["memories"], key=lambda m: m["id"])
    rest["conversations"] = sorted(rest["conversations"], key=lambda c: c["id"])
    rest["relations"] = sorted(rest["relations"], key=json.dumps)
    dropped = set(orphans(document))
    rest["entities"] = sorted((e for e in rest["entities"] if e["name"] not in dropped), key=json.dumps)
    return rest


def restore(api: SyncClient, headers: dict[str, str], document: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/memories/restore", json=document, headers=headers)
    assert response.status_code == 200, response.text
    # A restore enqueues nothing. Were extraction run again, the facts it drew in another user's account
    # would have ids derived from that user: new memories in the export compared below.
    drain_tasks(api)
    report: dict[str, Any] = response.json()
    return report


def moved_to(document: dict[str, Any], user_id: str) -> dict[str, Any]:
    """What an export becomes in the account of `user_id`: its user ids, and the ids derived from them."""
    source = document["user_id"]
    messages = [m for c in document["conversations"] for m in c["messages"]]
    renames = {answer_id(source, m["id"]): answer_id(user_id, m["id"]) for m in messages}
    renames.update({turn_memory_id(source, m["id"]): turn_memory_id(user_id, m["id"]) for m in messages})
    text = json.dumps(document)
    for old, new in renames.items():
        text = text.replace(json.dumps(old), json.dumps(new))
    return dict(json.loads(text.replace(json.dumps(source), json.dumps(user_id))))


def test_an_export_restores_into_the_emptied_account_and_into_another(api: SyncClient) -> None:
    user = f"nina-{uuid.uuid4()}"
    headers = bearer(user)
    fill(api, headers)
    original = export(api, headers)

    conversations = {c["title"]: c for c in original["conversations"]}
    assert [m["role"] for m in conversations["Trip planning"]["messages"]] == ["user", "assistant", "user"]
    assert len(conversations["My sister Maya lives in Lisbon."]["messages"]) == 4  # two turns, two answers
    berlin = next(m for m in original["memories"] if m["content"] == "I live in Berlin")
    assert berlin["superseded_by"] and berlin["valid_until"]
    assert [c["kind"] for c in original["history"][berlin["id"]]] == ["create", "update", "supersede"]
    assert original["profile"]["display_name"] == "Nina"
    assert orphans(original) == ["Felix"]  # named only by the deleted memory

    forgotten = api.delete("/api/memories", params={"confirm": "true"}, headers=headers)
    assert forgotten.status_code == 200
    emptied = export(api, headers)
    assert (emptied["memories"], emptied["conversations"], emptied["profile"]) == ([], [], None)

    report = restore(api, headers, original)
    messages = sum(len(c["messages"]) for c in original["conversations"])
    assert report["restored"] == {
        "memories": len(original["memories"]),
        "conversations": len(original["conversations"]),
        "messages": messages,
        "profile": 1,
    }
    assert set(report["unchanged"].values()) == {0}
    restored = export(api, headers)
    assert comparable(restored) == comparable(original)
    assert orphans(restored) == []

    # The restored account works: search finds the current value first, the superseded one as history.
    found = api.post("/api/memories/search", json={"query": "Where do I live?"}, headers=headers).json()
    current = {r["memory"]["content"]: r["current"] for r in found["results"]}
    assert found["results"][0]["memory"]["content"] == "I live in Amsterdam"
    assert (current["I live in Amsterdam"], current.get("I live in Berlin", False)) == (True, False)

    # Again: nothing is added, and it says what was there.
    again = restore(api, headers, original)
    assert set(again["restored"].values()) == {0}
    assert again["unchanged"] == report["restored"]
    assert comparable(export(api, headers)) == comparable(original)

    # Into another user: theirs in every user id, and in the ids derived from one.
    other = f"nina-moved-{uuid.uuid4()}"
    restore(api, bearer(other), original)
    assert comparable(export(api, bearer(other))) == comparable(moved_to(original, other))
    # ... so that deleting a restored conversation forgets its turns there, as it would have here.
    chat = next(c for c in original["conversations"] if c["title"] == "Trip planning")
    assert api.delete(f"/api/chat/conversations/{chat['id']}", headers=bearer(other)).status_code == 204
    turns = api.get("/api/memories", params={"kind": "turn", "contains": "Kyoto"}, headers=bearer(other)).json()
    assert turns["items"] == []
    # The original account still has its own.
    mine = api.get("/api/memories", params={"kind": "turn", "contains": "Kyoto"}, headers=headers).json()
    kyoto = [m["id"] for m in original["memories"] if m["kind"] == "turn" and "Kyoto" in m["content"]]
    assert kyoto and sorted(m["id"] for m in mine["items"]) == sorted(kyoto)


def test_an_account_holding_other_data_is_refused_and_left_as_it_was(api: SyncClient) -> None:
    headers = bearer(f"nina-{uuid.uuid4()}")
    fill(api, headers)
    document = export(api, headers)
    occupied = bearer(f"occupied-{uuid.uuid4()}")
    api.post("/api/memories", json={"content": "I already have a memory"}, headers=occupied)
    before = export(api, occupied)

    refused = api.post("/api/memories/restore", json=document, headers=occupied)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "1 memories, 0 conversations" in refused.json()["detail"]
    assert comparable(export(api, occupied)) == comparable(before)
    # Its own account, with something added since the export, is refused too.
    api.post("/api/memories", json={"content": "Something said after the export"}, headers=headers)
    assert api.post("/api/memories/restore", json=document, headers=headers).status_code == 409


def small_export(api: SyncClient) -> dict[str, Any]:
    headers = bearer(f"small-{uuid.uuid4()}")
    api.post("/api/memories", json={"content": "I like green tea", "metadata": {"k": "v"}}, headers=headers)
    transcript = {"messages": [{"role": "user", "content": "Hello there", "created_at": "2025-02-01T10:00:00Z"}]}
    assert api.post("/api/chat/conversations/import", json=transcript, headers=headers).status_code == 201
    drain_tasks(api)
    return export(api, headers)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


def _memory(document: dict[str, Any]) -> dict[str, Any]:
    """The export's memory that is not a turn (the one with metadata)."""
    return next(m for m in document["memories"] if m["kind"] == "fact")


BROKEN: dict[str, tuple[Any, str]] = {
    "a time without a timezone": (
        lambda d: _memory(d).update(created_at="2025-01-01T00:00:00"),
        "created_at must carry a timezone",
    ),
    "a time out of range": (lambda d: d["conversations"][0].update(updated_at="0001-01-01T00:00:00Z"), "years"),
    "a NUL in a message": (
        lambda d: d["conversations"][0]["messages"][0].update(content="a\u0000b"),
        "must not contain NUL characters",
    ),
    "an empty memory": (lambda d: _memory(d).update(content="  "), "memory content must not be empty"),
    "a reliability past 1": (lambda d: _memory(d).update(reliability=2.0), "reliability must be between 0 and 1"),
    "a memory id twice": (lambda d: d["memories"].append(dict(_memory(d))), "is given twice"),
    "one content twice, both current": (
        lambda d: d["memories"].append({**_memory(d), "id": "twin", "content": " i LIKE green tea"}),
        "and both are current: keep one",
    ),
    "an id past its length": (lambda d: _memory(d).update(id="x" * 201), "1 to 200 characters"),
    "history of a memory not held": (lambda d: d["history"].update(nobody=[]), "history names memory 'nobody'"),
    "a message of another conversation": (
        lambda d: d["conversations"][0]["messages"][0].update(conversation_id="elsewhere"),
        "belongs to conversation 'elsewhere'",
    ),
    "metadata nested too deep": (lambda d: _memory(d).update(metadata=nested(40)), "at most 32 levels deep"),
}


@pytest.mark.parametrize("broken", BROKEN, ids=str)
def test_an_export_that_cannot_be_restored_is_a_422_naming_its_part_and_writes_nothing(
    api: SyncClient, broken: str
) -> None:
    document = small_export(api)
    change, detail = BROKEN[broken]
    change(document)
    headers = bearer(f"target-{uuid.uuid4()}")

    refused = api.post("/api/memories/restore", json=document, headers=headers)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert detail in refused.text
    emptied = export(api, headers)
    assert (emptied["memories"], emptied["conversations"], emptied["profile"]) == ([], [], None)


def test_a_body_that_is_no_export_is_a_client_error(api: SyncClient) -> None:
    headers = bearer(f"target-{uuid.uuid4()}")
    for body in ({"memories": []}, [], {"user_id": "x", "exported_at": "soon", "memories": [], "history": {}}):
        refused = api.post("/api/memories/restore", json=body, headers=headers)
        assert refused.status_code in (400, 422), refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert api.post("/api/memories/restore", json=small_export(api)).status_code == 401


def test_an_export_from_before_conversations_were_exported_restores(api: SyncClient) -> None:
    document = small_export(api)
    del document["conversations"]
    report = restore(api, bearer(f"target-{uuid.uuid4()}"), document)
    assert report["restored"]["memories"] == len(document["memories"])
    assert report["restored"]["conversations"] == 0


def test_an_export_past_the_size_setting_is_a_413(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, restore_max_body_bytes=8_000))) as client:
        headers = bearer(f"target-{uuid.uuid4()}")
        document = small_export(client)
        assert len(json.dumps(document)) < 8_000
        too_big = {**document, "memories": [{**_memory(document), "content": "x" * 9_000}]}
        refused = client.post("/api/memories/restore", json=too_big, headers=headers)
        assert refused.status_code == 413, refused.text
        assert client.post("/api/memories/restore", json=document, headers=headers).status_code == 200
