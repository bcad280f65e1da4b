"""The caller's profile: display name, preferences and profile memories."""

from __future__ import annotations

from testsupport.app import Client


async def test_an_empty_profile_reads_as_empty(client: Client, headers: dict[str, str], user: str) -> None:
    response = await client.get("/api/profile", headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "user_id": user,
        "display_name": None,
        "preferences": {},
        "memories": [],
        "updated_at": None,
    }


async def test_preferences_merge_and_null_removes(client: Client, headers: dict[str, str]) -> None:
    first = await client.patch(
        "/api/profile",
        json={"display_name": "Sam", "preferences": {"tone": "brief", "language": "en"}},
        headers=headers,
    )
    assert first.status_code == 200, first.text
    assert first.json()["preferences"] == {"tone": "brief", "language": "en"}
    second = await client.patch(
        "/api/profile", json={"preferences": {"tone": None, "units": "metric"}}, headers=headers
    )
    body = second.json()
    assert body["display_name"] == "Sam"
    assert body["preferences"] == {"language": "en", "units": "metric"}
    assert body["updated_at"] is not None
    assert (await client.get("/api/profile", headers=headers)).json()["preferences"] == body["preferences"]


async def test_profile_memories_are_profile_typed_and_listed(client: Client, headers: dict[str, str]) -> None:
    added = await client.post("/api/profile/memories", json={"content": "I am a nurse in Leeds"}, headers=headers)
    assert added.status_code == 201, added.text
    assert added.json()["type"] == "profile"
    await client.post("/api/memories", json={"content": "I like jazz", "type": "semantic"}, headers=headers)
    listed = (await client.get("/api/profile/memories", headers=headers)).json()
    assert [m["content"] for m in listed] == ["I am a nurse in Leeds"]
    profile = (await client.get("/api/profile", headers=headers)).json()
    assert [m["id"] for m in profile["memories"]] == [added.json()["id"]]


async def test_profiles_are_private(client: Client, headers: dict[str, str], other_headers: dict[str, str]) -> None:
    await client.patch("/api/profile", json={"display_name": "Sam"}, headers=headers)
    await client.post("/api/profile/memories", json={"content": "I am a nurse"}, headers=headers)
    other = (await client.get("/api/profile", headers=other_headers)).json()
    assert other["display_name"] is None
    assert other["memories"] == []
