"""Memories over HTTP: CRUD, search with score breakdowns, import with dates, history, export, delete-all."""

from __future__ import annotations

import itertools
from typing import Any

from jyntrix_domain.signals import SIGNAL_NAMES
from testsupport.app import Client


async def _create(client: Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/memories", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_then_get_round_trips(client: Client, headers: dict[str, str], user: str) -> None:
    created = await _create(
        client,
        headers,
        content="My sister Maya lives in Lisbon",
        type="semantic",
        reliability=0.9,
        entities=["Maya", "Lisbon"],
        metadata={"source": "test"},
    )
    assert created["user_id"] == user
    assert created["content"] == "My sister Maya lives in Lisbon"
    assert created["reliability"] == 0.9
    assert created["entities"] == ["Maya", "Lisbon"]
    assert created.pop("duplicate") is False and created["current"] is True and created["kind"] == "fact"
    fetched = await client.get(f"/api/memories/{created['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_the_same_content_again_is_the_same_memory_with_its_sources(
    client: Client, headers: dict[str, str]
) -> None:
    first = await _create(client, headers, content="My sister Maya lives in Lisbon.")
    again = await client.post(
        "/api/memories", json={"content": "  my sister MAYA lives in   lisbon. "}, headers=headers
    )
    # Whitespace and case aside the same content: 200, the memory there already, said to be a duplicate.
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first["id"] and again.json()["duplicate"] is True
    listed = (await client.get("/api/memories", headers=headers)).json()
    assert listed["total"] == 1


async def test_list_filters_by_type_and_text_and_pages(client: Client, headers: dict[str, str]) -> None:
    await _create(client, headers, content="I am vegetarian", type="profile")
    for i in range(3):
        await _create(client, headers, content=f"Fact number {i} about tea", type="semantic")
    everything = (await client.get("/api/memories", headers=headers)).json()
    assert everything["total"] == 4
    profile = (await client.get("/api/memories?type=profile", headers=headers)).json()
    assert [m["content"] for m in profile["items"]] == ["I am vegetarian"]
    page = (await client.get("/api/memories?type=semantic&limit=2&offset=0", headers=headers)).json()
    assert len(page["items"]) == 2
    assert page["total"] == 3
    rest = (await client.get("/api/memories?type=semantic&limit=2&offset=2", headers=headers)).json()
    assert len(rest["items"]) == 1
    assert {m["id"] for m in page["items"]}.isdisjoint({m["id"] for m in rest["items"]})
    tea = (await client.get("/api/memories?contains=tea", headers=headers)).json()
    assert tea["total"] == 3


async def test_update_is_recorded_in_history(client: Client, headers: dict[str, str]) -> None:
    created = await _create(client, headers, content="I drink coffee every morning")
    updated = await client.patch(
        f"/api/memories/{created['id']}",
        json={"content": "I drink tea every morning", "reliability": 0.95},
        headers=headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["content"] == "I drink tea every morning"
    assert updated.json()["reliability"] == 0.95
    history = (await client.get(f"/api/memories/{created['id']}/history", headers=headers)).json()
    kinds = [c["kind"] for c in history["changes"]]
    assert kinds[-1] == "update"
    last = history["changes"][-1]
    assert last["content_before"] == "I drink coffee every morning"
    assert last["content_after"] == "I drink tea every morning"


async def test_supersede_keeps_the_old_fact_in_history_found_as_not_current(
    client: Client, headers: dict[str, str]
) -> None:
    old = await _create(client, headers, content="I live in Paris")
    response = await client.post(
        f"/api/memories/{old['id']}/supersede", json={"content": "I live in Berlin"}, headers=headers
    )
    assert response.status_code == 201, response.text
    new = response.json()
    stale = (await client.get(f"/api/memories/{old['id']}", headers=headers)).json()
    assert stale["superseded_by"] == new["id"]
    assert stale["valid_until"] is not None
    assert [
        c["kind"] for c in (await client.get(f"/api/memories/{old['id']}/history", headers=headers)).json()["changes"]
    ][-1] == "supersede"
    current = (await client.get("/api/memories", headers=headers)).json()
    assert [m["content"] for m in current["items"]] == ["I live in Berlin"]
    with_history = (await client.get("/api/memories?current_only=false", headers=headers)).json()
    assert with_history["total"] == 2
    found = (await client.post("/api/memories/search", json={"query": "where do I live"}, headers=headers)).json()
    # The old fact is history: found below the current one, marked not current, with its span.
    assert [(r["memory"]["content"], r["current"]) for r in found["results"]] == [
        ("I live in Berlin", True),
        ("I live in Paris", False),
    ]
    assert found["results"][1]["valid_until"] == stale["valid_until"]
    then = (
        await client.post(
            "/api/memories/search",
            json={"query": "where do I live", "as_of": old["created_at"]},
            headers=headers,
        )
    ).json()
    assert [(r["memory"]["content"], r["current"]) for r in then["results"]] == [("I live in Paris", True)]


async def test_delete_removes_the_memory(client: Client, headers: dict[str, str]) -> None:
    created = await _create(client, headers, content="My locker code is 1234")
    assert (await client.delete(f"/api/memories/{created['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"/api/memories/{created['id']}", headers=headers)).status_code == 404
    assert (await client.delete(f"/api/memories/{created['id']}", headers=headers)).status_code == 404
    found = (await client.post("/api/memories/search", json={"query": "locker code"}, headers=headers)).json()
    assert found["results"] == []


async def test_search_explains_every_score(client: Client, headers: dict[str, str]) -> None:
    await _create(client, headers, content="My sister Maya lives in Lisbon", entities=["Maya", "Lisbon"])
    await _create(client, headers, content="I enjoy baking sourdough bread")
    response = await client.post("/api/memories/search", json={"query": "Where does Maya live?"}, headers=headers)
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["memory"]["content"] == "My sister Maya lives in Lisbon"
    top = results[0]
    scores = top["scores"]
    assert set(scores["signals"]) == set(SIGNAL_NAMES)
    assert set(scores["weights"]) == set(scores["signals"])
    assert abs(sum(scores["contributions"].values()) - scores["total"]) < 1e-9
    assert abs(top["score"] - scores["total"]) < 1e-9
    assert scores["signals"]["keyword"] > 0
    assert top["match_types"]
    assert all(a["score"] >= b["score"] for a, b in itertools.pairwise(results))


async def test_search_can_be_limited_to_types(client: Client, headers: dict[str, str]) -> None:
    await _create(client, headers, content="I prefer short answers", type="procedural")
    await _create(client, headers, content="Short trips are my favourite", type="semantic")
    found = (
        await client.post("/api/memories/search", json={"query": "short", "types": ["procedural"]}, headers=headers)
    ).json()
    assert [r["memory"]["type"] for r in found["results"]] == ["procedural"]


async def test_bulk_import_keeps_the_given_dates_and_is_idempotent_by_id(
    client: Client, headers: dict[str, str]
) -> None:
    body = {
        "memories": [
            {
                "id": "imp-1",
                "content": "We went to Porto for my birthday",
                "type": "episodic",
                "created_at": "2023-05-14T18:30:00Z",
            },
            {"id": "imp-2", "content": "I adopted a cat named Miso", "created_at": "2022-11-02T09:00:00+01:00"},
        ]
    }
    first = await client.post("/api/memories/import", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["imported"] == 2
    again = await client.post("/api/memories/import", json=body, headers=headers)
    assert again.status_code == 201
    listed = (await client.get("/api/memories?current_only=false", headers=headers)).json()
    assert listed["total"] == 2
    by_id = {m["id"]: m for m in listed["items"]}
    assert by_id["imp-1"]["created_at"].startswith("2023-05-14T18:30:00")
    assert by_id["imp-2"]["created_at"].startswith("2022-11-02T08:00:00")
    # the imported dates are what time filters see
    in_2023 = (
        await client.get(
            "/api/memories?created_after=2023-01-01T00:00:00Z&created_before=2024-01-01T00:00:00Z", headers=headers
        )
    ).json()
    assert [m["id"] for m in in_2023["items"]] == ["imp-1"]


async def test_export_holds_memories_history_entities_and_profile(client: Client, headers: dict[str, str]) -> None:
    created = await _create(client, headers, content="Maya is my sister", entities=["Maya"])
    await client.patch(f"/api/memories/{created['id']}", json={"reliability": 0.99}, headers=headers)
    await client.patch("/api/profile", json={"display_name": "Sam"}, headers=headers)
    response = await client.get("/api/memories/export", headers=headers)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    exported = response.json()
    assert [m["id"] for m in exported["memories"]] == [created["id"]]
    assert exported["history"][created["id"]]
    assert any(e["name"] == "Maya" for e in exported["entities"])
    assert exported["profile"]["display_name"] == "Sam"


async def test_delete_all_forgets_everything_about_the_caller_only(
    client: Client, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    await _create(client, headers, content="I am allergic to peanuts")
    await _create(client, other_headers, content="I am allergic to shellfish")
    await client.post("/api/chat/conversations", json={"title": "hi"}, headers=headers)
    response = await client.delete("/api/memories?confirm=true", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"memories": 1, "conversations": 1}
    assert (await client.get("/api/memories?current_only=false", headers=headers)).json()["total"] == 0
    assert (await client.get("/api/chat/conversations", headers=headers)).json()["items"] == []
    assert (await client.post("/api/memories/search", json={"query": "allergic"}, headers=headers)).json()[
        "results"
    ] == []
    assert (await client.get("/api/memories", headers=other_headers)).json()["total"] == 1


async def test_an_import_larger_than_ten_megabytes_is_accepted(client: Client, headers: dict[str, str]) -> None:
    # 600 memories of 19,000 characters: about 11.4 MB, past Litestar's default body limit.
    body = {"memories": [{"content": f"{i} " + "x" * 19_000} for i in range(600)]}
    response = await client.post("/api/memories/import", json=body, headers=headers)
    assert response.status_code == 201, response.text[:300]
    assert response.json()["imported"] == 600


async def test_a_metadata_patch_merges_keys_and_keeps_the_slot(client: Client, headers: dict[str, str]) -> None:
    created = await _create(
        client,
        headers,
        content="The user lives in Berlin",
        type="profile",
        slot="location",
        value="Berlin",
        metadata={"source": "import", "note": "old", "tags": ["a"]},
    )
    assert (created["slot"], created["value"], created["kind"]) == ("location", "Berlin", "fact")
    patched = await client.patch(
        f"/api/memories/{created['id']}",
        json={"metadata": {"note": None, "tags": ["b"], "checked": True, "slot": "not the slot"}},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["metadata"] == {"source": "import", "tags": ["b"], "checked": True, "slot": "not the slot"}
    # A metadata key cannot reach the typed slot that consolidation compares.
    assert (body["slot"], body["value"]) == ("location", "Berlin")
    assert (await client.get(f"/api/memories/{created['id']}", headers=headers)).json() == body


async def test_editing_a_memory_keeps_its_relations(client: Client, headers: dict[str, str]) -> None:
    created = await _create(
        client,
        headers,
        content="Anna works at Acme",
        entities=["Anna", "Acme"],
        relations=[{"source": "Anna", "predicate": "works_at", "target": "Acme"}],
    )
    patched = await client.patch(f"/api/memories/{created['id']}", json={"reliability": 0.95}, headers=headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["relations"] == [
        {"source": "Anna", "predicate": "works_at", "target": "Acme", "memory_id": None}
    ]
    exported = (await client.get("/api/memories/export", headers=headers)).json()
    assert [(r["source"], r["predicate"], r["target"]) for r in exported["relations"]] == [("anna", "works_at", "acme")]


async def test_an_overlong_entity_key_is_refused_before_anything_is_stored(
    client: Client, headers: dict[str, str]
) -> None:
    # 150 characters, but 300 as a key: "ß" casefolds to "ss". The graph could not index it.
    response = await client.post("/api/memories", json={"content": "Straße", "entities": ["ß" * 150]}, headers=headers)
    assert response.status_code == 422, response.text
    assert "200 characters" in response.json()["detail"]
    assert (await client.get("/api/memories", headers=headers)).json()["total"] == 0


async def test_list_filters_by_kind(client: Client, headers: dict[str, str]) -> None:
    await _create(client, headers, content="I like green tea")
    facts = (await client.get("/api/memories?kind=fact", headers=headers)).json()
    assert [m["content"] for m in facts["items"]] == ["I like green tea"]
    assert (await client.get("/api/memories?kind=summary&kind=turn", headers=headers)).json()["total"] == 0
    bad = await client.get("/api/memories?kind=gossip", headers=headers)
    assert bad.status_code == 422
