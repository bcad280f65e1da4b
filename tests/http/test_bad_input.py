"""Bad input gets a clear client error (RFC 9457 problem details), never a 500: regressions found by fuzzing."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from testsupport.app import SECRET, Client

PROBLEM_JSON = "application/problem+json"

# Every route that reads a JSON body, with a body it accepts. Ids need not exist: these checks run before the handler.
BODY_ROUTES = [
    ("POST", "/api/memories", {"content": "I like tea"}),
    ("POST", "/api/memories/search", {"query": "tea"}),
    ("POST", "/api/memories/import", {"memories": [{"content": "I like tea"}]}),
    ("PATCH", "/api/memories/some-id", {"content": "I like tea"}),
    ("POST", "/api/memories/some-id/supersede", {"content": "I like tea"}),
    ("POST", "/api/chat/conversations", {"title": "Tea"}),
    ("POST", "/api/chat/conversations/some-id/messages/stream", {"content": "hello"}),
    ("POST", "/api/chat/messages/stream", {"content": "hello"}),
    ("PATCH", "/api/profile", {"display_name": "Ada"}),
    ("POST", "/api/profile/memories", {"content": "I am vegetarian"}),
    ("POST", "/api/console/dev-token", {"user_id": "ada"}),
]
BODY_ROUTE_IDS = [f"{method} {path}" for method, path, _ in BODY_ROUTES]


def problem(response: Any, status: int) -> dict[str, Any]:
    """The response's problem document, after checking it is one with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:jyntrix:problem:")
    assert body["title"]
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


def nested(depth: int) -> dict[str, Any]:
    """A memory body whose metadata nests objects `depth` levels deep."""
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return {"content": "deep", "metadata": value}


async def send(client: Client, method: str, path: str, body: bytes, headers: dict[str, str], **extra: str) -> Any:
    return await client.request(method, path, content=body, headers={**headers, **extra})


# ------------------------------------------------------------------ bodies


@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES, ids=BODY_ROUTE_IDS)
async def test_json_nested_past_the_decoder_limit_is_400_on_every_body_route(
    client: Client, headers: dict[str, str], method: str, path: str, body: dict[str, Any]
) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    response = await send(client, method, path, deep, headers, **{"Content-Type": "application/json"})
    assert problem(response, 400)["detail"] == "JSON is nested too deeply"


@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES, ids=BODY_ROUTE_IDS)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; b=x"]
)
async def test_a_body_that_is_not_json_is_415_on_every_body_route(
    client: Client, headers: dict[str, str], method: str, path: str, body: dict[str, Any], content_type: str
) -> None:
    response = await send(client, method, path, json.dumps(body).encode(), headers, **{"Content-Type": content_type})
    found = problem(response, 415)
    assert found["code"] == "unsupported_media_type"
    assert "application/json" in found["detail"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/vnd.jyntrix+json"]
)
async def test_json_media_types_are_accepted(client: Client, headers: dict[str, str], content_type: str) -> None:
    # A body with no Content-Type at all is a 415 (tests/http/test_hardening.py), as docs/api.md says.
    response = await send(
        client, "POST", "/api/memories", b'{"content": "I like tea"}', headers, **{"Content-Type": content_type}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"content": "x"} trailing',
        b"\xff\xfe\xfd",
        b'{"content": "\\ud800"}',  # a lone surrogate cannot become UTF-8
        b'{"content": "x", "reliability": 1e400}',
        b'{"content": "x", "reliability": NaN}',
    ],
)
async def test_malformed_json_is_400(client: Client, headers: dict[str, str], body: bytes) -> None:
    response = await send(client, "POST", "/api/memories", body, headers, **{"Content-Type": "application/json"})
    assert problem(response, 400)["code"] == "bad_request"


async def test_a_body_over_the_size_limit_is_413(client: Client, headers: dict[str, str]) -> None:
    body = b'{"content": "' + b"a" * 11_000_000 + b'"}'
    response = await send(client, "POST", "/api/memories", body, headers, **{"Content-Type": "application/json"})
    problem(response, 413)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/memories", {"content": "x", "metadata": {"key\u0000": 1}}),
        ("/api/memories", {"content": "x", "metadata": {"k": ["a\u0000"]}}),
        ("/api/memories", {"content": "x", "id": "a\u0000b"}),
        ("/api/memories/search", {"query": "tea\u0000"}),
        ("/api/chat/conversations", {"title": "\u0000"}),
        ("/api/chat/messages/stream", {"content": "hello\u0000"}),
        ("/api/profile/memories", {"content": "\u0000"}),
    ],
)
async def test_nul_characters_in_a_body_are_422_before_reaching_a_store(
    client: Client, headers: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    found = problem(await client.post(path, json=body, headers=headers), 422)
    assert "NUL" in found["errors"][0]["message"]


async def test_an_escaped_backslash_before_u0000_is_text_not_nul(client: Client, headers: dict[str, str]) -> None:
    response = await client.post("/api/memories", json={"content": "a path: C:\\u0000"}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["content"] == "a path: C:\\u0000"


@pytest.mark.parametrize("depth", [33, 200, 900])
async def test_metadata_nested_deeper_than_32_levels_is_422(
    client: Client, headers: dict[str, str], depth: int
) -> None:
    found = problem(await client.post("/api/memories", json=nested(depth), headers=headers), 422)
    assert "32 levels" in found["errors"][0]["message"]


async def test_metadata_32_levels_deep_is_stored_and_read_back(client: Client, headers: dict[str, str]) -> None:
    created = await client.post("/api/memories", json=nested(32), headers=headers)
    assert created.status_code == 201, created.text
    read = await client.get(f"/api/memories/{created.json()['id']}", headers=headers)
    assert read.status_code == 200 and read.json()["metadata"] == nested(32)["metadata"]
    exported = await client.get("/api/memories/export", headers=headers)
    assert exported.status_code == 200, exported.text
    assert nested(32)["metadata"] in [m["metadata"] for m in exported.json()["memories"]]


async def test_a_patch_with_too_deep_metadata_is_422(client: Client, headers: dict[str, str]) -> None:
    created = (await client.post("/api/memories", json={"content": "I like tea"}, headers=headers)).json()
    response = await client.patch(
        f"/api/memories/{created['id']}", json={"metadata": nested(40)["metadata"]}, headers=headers
    )
    problem(response, 422)


@pytest.mark.parametrize(
    "created_at",
    [
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC: overflowed converting
        "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
        "9999-12-31T23:59:59.999999Z",  # Postgres reads it back as +infinity, without a timezone
        "0001-01-01T00:00:00Z",  # -infinity
        "1899-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
    ],
)
async def test_a_created_at_outside_the_supported_years_is_422(
    client: Client, headers: dict[str, str], created_at: str
) -> None:
    body = {"content": "x", "created_at": created_at}
    found = problem(await client.post("/api/memories", json=body, headers=headers), 422)
    assert "years 1900 to 2999" in found["errors"][0]["message"]
    imported = await client.post("/api/memories/import", json={"memories": [body]}, headers=headers)
    problem(imported, 422)


@pytest.mark.parametrize("created_at", ["1900-01-01T00:00:00Z", "2999-12-31T23:59:59+14:00"])
async def test_created_at_at_the_edges_of_the_supported_years_is_accepted_and_searchable(
    client: Client, headers: dict[str, str], created_at: str
) -> None:
    created = await client.post(
        "/api/memories", json={"content": "green tea", "created_at": created_at}, headers=headers
    )
    assert created.status_code == 201, created.text
    searched = await client.post("/api/memories/search", json={"query": "green tea"}, headers=headers)
    assert searched.status_code == 200, searched.text
    found = [r["memory"] for r in searched.json()["results"] if r["memory"]["id"] == created.json()["id"]]
    assert found and found[0]["content"] == "green tea", searched.text


# ------------------------------------------------------------------ paths and queries


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("GET", "/api/memories/a%00b", "memory_id"),
        ("DELETE", "/api/memories/%00", "memory_id"),
        ("GET", "/api/memories/%00/history", "memory_id"),
        ("GET", "/api/chat/conversations/%00", "conversation_id"),
        ("DELETE", "/api/chat/conversations/%00", "conversation_id"),
        ("GET", "/api/chat/conversations/%00/messages", "conversation_id"),
        ("GET", "/api/chat/messages/%00", "message_id"),
        ("GET", "/api/memories?contains=tea%00", "contains"),
    ],
)
async def test_nul_characters_in_paths_and_queries_are_422_naming_the_parameter(
    client: Client, headers: dict[str, str], method: str, path: str, key: str
) -> None:
    found = problem(await client.request(method, path, headers=headers), 422)
    assert found["errors"] == [
        {
            "message": "must not contain NUL characters (\\u0000)",
            "key": key,
            "source": "path" if "?" not in path else "query",
        }
    ]


async def test_nul_in_a_path_with_a_body_is_422(client: Client, headers: dict[str, str]) -> None:
    for method, path in [
        ("PATCH", "/api/memories/%00"),
        ("POST", "/api/memories/%00/supersede"),
        ("POST", "/api/chat/conversations/%00/messages/stream"),
    ]:
        problem(await client.request(method, path, json={"content": "x"}, headers=headers), 422)


@pytest.mark.parametrize(
    "path",
    [
        "/api/memories?offset=9223372036854775808",
        "/api/memories?offset=1000000000000000000000000000000",
        "/api/memories?offset=1000001",
        "/api/chat/conversations?offset=9223372036854775808",
        "/api/memories?limit=-1",
        "/api/memories?limit=99999999999999999999999",
        "/api/memories?type=gossip",
        "/api/memories?current_only=maybe",
        "/api/memories?created_after=yesterday",
        "/api/memories?created_after=2024-02-30T00:00:00Z",
        "/api/memories?contains=" + "x" * 201,
        "/api/memories?confirm=maybe",
        "/api/chat/conversations/some-id?limit=0",
    ],
)
async def test_bad_query_parameters_are_422(client: Client, headers: dict[str, str], path: str) -> None:
    method = "DELETE" if "confirm" in path else "GET"
    problem(await client.request(method, path, headers=headers), 422)


async def test_the_largest_offset_is_an_empty_page(client: Client, headers: dict[str, str]) -> None:
    for path in ("/api/memories?offset=1000000", "/api/chat/conversations?offset=1000000"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


@pytest.mark.parametrize(
    ("path", "parameter", "problem_text"),
    [
        ("/api/memories?created_after=2024-01-01T00:00:00", "created_after", "timezone"),
        ("/api/memories?created_before=2024-01-01T00:00:00", "created_before", "timezone"),
        ("/api/memories?created_after=0001-01-01T00:00:00%2B14:00", "created_after", "years"),
        ("/api/memories?created_before=9999-12-31T23:59:59-14:00", "created_before", "years"),
        ("/api/v1/analytics/latency?until=0001-01-01T00:00:00Z", "until", "years"),
        ("/api/v1/analytics/usage?since=2024-01-01T00:00:00", "since", "timezone"),
        ("/api/v1/analytics/strategies?since=9999-12-30T00:00:00Z", "since", "years"),
    ],
)
async def test_query_times_without_a_timezone_or_outside_the_supported_years_are_422(
    client: Client, headers: dict[str, str], path: str, parameter: str, problem_text: str
) -> None:
    found = problem(await client.get(path, headers=headers), 422)
    assert found["detail"].startswith(f"`{parameter}`")
    assert problem_text in found["detail"]


async def test_message_paging_needs_an_aware_time(client: Client, headers: dict[str, str]) -> None:
    conversation = (await client.post("/api/chat/conversations", json={}, headers=headers)).json()
    path = f"/api/chat/conversations/{conversation['id']}/messages"
    for before in ("2024-01-01T00:00:00", "0001-01-01T00:00:00+14:00"):
        found = problem(await client.get(path, params={"before": before}, headers=headers), 422)
        assert found["detail"].startswith("`before`")
    ok = await client.get(path, params={"before": "2024-01-01T00:00:00Z"}, headers=headers)
    assert ok.status_code == 200


async def test_the_earliest_analytics_window_is_answered(client: Client, headers: dict[str, str]) -> None:
    response = await client.get("/api/v1/analytics/usage?until=1900-01-02T00:00:00Z", headers=headers)
    assert response.status_code == 200, response.text


# ------------------------------------------------------------------ lifecycles and identity


async def test_deleting_twice_is_404_the_second_time(client: Client, headers: dict[str, str]) -> None:
    memory = (await client.post("/api/memories", json={"content": "I like tea"}, headers=headers)).json()
    conversation = (await client.post("/api/chat/conversations", json={}, headers=headers)).json()
    for path in (f"/api/memories/{memory['id']}", f"/api/chat/conversations/{conversation['id']}"):
        assert (await client.delete(path, headers=headers)).status_code == 204
        assert problem(await client.delete(path, headers=headers), 404)["code"] == "not_found"
    streamed = await client.post(
        f"/api/chat/conversations/{conversation['id']}/messages/stream", json={"content": "hi"}, headers=headers
    )
    problem(streamed, 404)
    edited = await client.patch(f"/api/memories/{memory['id']}", json={"content": "x"}, headers=headers)
    problem(edited, 404)


async def test_a_token_whose_subject_holds_a_nul_is_401(client: Client) -> None:
    # mint_token refuses such a user id itself, so the token is signed by hand
    claims = {"sub": "alice\u0000", "aud": "authenticated", "iat": 1_700_000_000, "exp": 4_102_444_800}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert problem(response, 401)["code"] == "unauthorized"


# ------------------------------------------------------------------ the contract clients read


async def test_the_openapi_document_lists_the_problem_responses_of_every_api_route(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]
    assert len(operations) >= 25
    for method, path, operation in operations:
        responses = operation["responses"]
        for status in ("401", "429", "500"):
            assert PROBLEM_JSON in responses[status]["content"], (method, path, status)
        if "requestBody" in operation:
            for status in ("400", "413", "415", "422"):
                assert PROBLEM_JSON in responses[status]["content"], (method, path, status)
        if "{" in path:
            assert PROBLEM_JSON in responses["404"]["content"], (method, path)
        if path.endswith("/stream"):
            assert "text/event-stream" in responses["200"]["content"], path
