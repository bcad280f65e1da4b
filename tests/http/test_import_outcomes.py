"""Import reports what it did with each item: created, unchanged, conflicting (kept as stored) or duplicate."""

from __future__ import annotations

from testsupport.app import Client


async def test_import_reports_each_items_outcome_and_counts_only_what_it_created(
    client: Client, headers: dict[str, str]
) -> None:
    first = {"memories": [{"id": "a", "content": "I live in Porto"}, {"id": "b", "content": "I own a cat"}]}
    response = await client.post("/api/memories/import", json=first, headers=headers)
    assert response.status_code == 201, response.text
    assert [i["outcome"] for i in response.json()["items"]] == ["created", "created"]

    again = {
        "memories": [
            {"id": "a", "content": "I live in Porto"},
            {"id": "b", "content": "I own a dog"},
            {"id": "c", "content": "I play chess"},
            {"id": "c", "content": "I play chess"},
            {"id": "c", "content": "I play go"},
        ]
    }
    response = await client.post("/api/memories/import", json=again, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["imported"] == 1
    assert [(i["index"], i["id"], i["outcome"]) for i in body["items"]] == [
        (0, "a", "unchanged"),
        (1, "b", "conflicting"),
        (2, "c", "created"),
        (3, "c", "duplicate"),
        (4, "c", "conflicting"),
    ]
    assert (body["conflicting"], body["duplicates"]) == (2, 1)
    # `memories` holds what is stored for each item: a conflicting item keeps the old content.
    assert [m["content"] for m in body["memories"]] == ["I live in Porto", "I own a cat", *["I play chess"] * 3]
    listed = (await client.get("/api/memories", headers=headers)).json()
    assert listed["total"] == 3


async def test_an_id_imported_again_with_the_same_content_but_other_fields_is_conflicting(
    client: Client, headers: dict[str, str]
) -> None:
    when = "2025-01-02T03:04:05Z"
    first = {"id": "p", "content": "I live in Porto", "type": "profile", "reliability": 0.9, "created_at": when}
    response = await client.post("/api/memories/import", json={"memories": [first]}, headers=headers)
    assert [i["outcome"] for i in response.json()["items"]] == ["created"]
    variants = [
        first,
        {k: v for k, v in first.items() if k != "created_at"},  # no time given: the stored one stands
        {**first, "type": "semantic"},
        {**first, "reliability": 0.5},
        {**first, "entities": ["Porto"]},
        {**first, "metadata": {"source": "notes"}},
        {**first, "created_at": "2024-01-02T03:04:05Z"},
    ]
    outcomes = []
    for variant in variants:
        response = await client.post("/api/memories/import", json={"memories": [variant]}, headers=headers)
        assert response.status_code == 201, response.text
        outcomes.append(response.json()["items"][0]["outcome"])
    assert outcomes == ["unchanged", "unchanged", *["conflicting"] * 5]
    stored = (await client.get("/api/memories/p", headers=headers)).json()
    assert (stored["type"], stored["reliability"], stored["entities"]) == ("profile", 0.9, [])
