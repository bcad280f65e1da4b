"""Problem details (RFC 9457) for every kind of failure, request ids, CORS and rate limiting."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar import get
from litestar.params import FromPath

from jyntrix_bootstrap.settings import Deployment, Environment
from jyntrix_domain.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, Unavailable, Unsupported
from testsupport.app import Client, bearer, in_process_overrides, make_settings, services_of


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:jyntrix:problem:")
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/memories", {}),
        ("/api/memories", {"content": ""}),
        ("/api/memories", {"content": "x", "reliability": 1.5}),
        ("/api/memories", {"content": "x", "type": "gossip"}),
        ("/api/memories", {"content": "x", "created_at": "2024-01-05T10:00:00"}),  # no timezone
        ("/api/memories", {"content": "x", "unexpected": True}),
        ("/api/memories", []),
        ("/api/memories/search", {"query": ""}),
        ("/api/memories/search", {"query": "x", "limit": 0}),
        ("/api/memories/import", {"memories": []}),
        ("/api/chat/messages/stream", {"content": ""}),
        ("/api/chat/messages/stream", {"content": 42}),
        ("/api/chat/messages/stream", {"content": "hi", "message_id": "has spaces"}),
        ("/api/profile/memories", {"content": "x", "reliability": -1}),
    ],
)
async def test_invalid_bodies_are_422_with_field_errors(
    client: Client, headers: dict[str, str], path: str, body: Any
) -> None:
    problem = _problem(await client.post(path, json=body, headers=headers), 422)
    assert problem["code"] == "validation_failed"
    assert problem["errors"], problem
    assert all("message" in e for e in problem["errors"])


async def test_invalid_query_parameters_are_422(client: Client, headers: dict[str, str]) -> None:
    for path in ("/api/memories?limit=0", "/api/memories?limit=abc", "/api/chat/conversations?offset=-1"):
        _problem(await client.get(path, headers=headers), 422)


async def test_a_domain_validation_error_is_422(client: Client, headers: dict[str, str]) -> None:
    # whitespace passes the schema (length 1+) but the domain refuses empty content
    problem = _problem(await client.post("/api/memories", json={"content": "   "}, headers=headers), 422)
    assert problem["code"] == "invalid"
    assert "empty" in problem["detail"]


async def test_malformed_json_is_400(client: Client, headers: dict[str, str]) -> None:
    response = await client.post(
        "/api/memories", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )
    _problem(response, 400)


async def test_unknown_ids_and_routes_are_404(client: Client, headers: dict[str, str]) -> None:
    for method, path in [
        ("GET", "/api/memories/no-such-memory"),
        ("PATCH", "/api/memories/no-such-memory"),
        ("DELETE", "/api/memories/no-such-memory"),
        ("GET", "/api/memories/no-such-memory/history"),
        ("GET", "/api/chat/conversations/no-such-conversation"),
        ("DELETE", "/api/chat/conversations/no-such-conversation"),
        ("GET", "/api/chat/conversations/no-such-conversation/messages"),
        ("GET", "/api/nothing-here"),
    ]:
        body = {"content": "x"} if method == "PATCH" else None
        response = await client.request(method, path, headers=headers, json=body)
        assert _problem(response, 404)["code"] in {"not_found"}, path


async def test_streaming_into_an_unknown_conversation_is_404_before_any_event(
    client: Client, headers: dict[str, str]
) -> None:
    response = await client.post(
        "/api/chat/conversations/nope/messages/stream", json={"content": "hello"}, headers=headers
    )
    assert _problem(response, 404)["code"] == "not_found"


async def test_a_method_the_route_lacks_is_405(client: Client, headers: dict[str, str]) -> None:
    _problem(await client.put("/api/memories/search", json={}, headers=headers), 405)


async def test_delete_all_without_confirmation_is_refused(client: Client, headers: dict[str, str]) -> None:
    problem = _problem(await client.delete("/api/memories", headers=headers), 422)
    assert "confirm=true" in problem["detail"]


# ------------------------------------------------------------------ 429


async def test_the_rate_limit_is_per_user_with_retry_after(tmp_path: Path, app_factory: Callable[..., Client]) -> None:
    settings = make_settings(tmp_path, rate_limit_requests=3, rate_limit_window_s=60)
    alice, bob = bearer("alice"), bearer("bob")
    async with app_factory(settings) as client:
        allowed = [await client.get("/api/auth/me", headers=alice) for _ in range(3)]
        limited = await client.get("/api/auth/me", headers=alice)
        other_user = await client.get("/api/auth/me", headers=bob)
        health = [await client.get("/health") for _ in range(5)]
    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert [r.headers["ratelimit-remaining"] for r in allowed] == ["2", "1", "0"]
    assert allowed[0].headers["ratelimit-limit"] == "3"
    problem = _problem(limited, 429)
    assert problem["code"] == "rate_limited"
    retry_after = int(limited.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert other_user.status_code == 200
    assert all(r.status_code == 200 for r in health)


async def test_with_redis_the_limit_holds_across_api_replicas(
    tmp_path: Path, redis_url: str, app_factory: Callable[..., Client]
) -> None:
    settings = make_settings(
        tmp_path,
        jyntrix_deployment=Deployment.EMBEDDED,
        redis_url=redis_url,
        rate_limit_requests=3,
        rate_limit_window_s=60,
    )
    user = bearer(f"replicas-{uuid.uuid4()}")
    async with (
        app_factory(settings, overrides=in_process_overrides("rate_limiter")) as replica_a,
        app_factory(settings, overrides=in_process_overrides("rate_limiter")) as replica_b,
    ):
        assert services_of(replica_a).backends["rate_limiter"].backend == "redis"
        statuses = [
            (await replica_a.get("/api/auth/me", headers=user)).status_code,
            (await replica_b.get("/api/auth/me", headers=user)).status_code,
            (await replica_a.get("/api/auth/me", headers=user)).status_code,
        ]
        limited = await replica_b.get("/api/auth/me", headers=user)
    assert statuses == [200, 200, 200]
    _problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1


# ------------------------------------------------------------------ 503 and 500


async def test_a_request_is_503_with_retry_after_when_the_database_is_down(
    tmp_path: Path, postgres_dsn: str, app_factory: Callable[..., Client]
) -> None:
    settings = make_settings(tmp_path, jyntrix_deployment=Deployment.EMBEDDED, database_url=postgres_dsn)
    # Its own user: the database is shared with other tests and runs, and the same content would be a duplicate.
    headers = bearer(f"db-down-user-{uuid.uuid4()}")
    async with app_factory(settings, overrides=in_process_overrides("storage")) as client:
        created = await client.post("/api/memories", json={"content": "I like tea"}, headers=headers)
        assert created.status_code == 201, created.text
        client.blocking_portal.call(services_of(client).storage.postgres.db.pool.close)
        response = await client.get("/api/memories", headers=headers)
    problem = _problem(response, 503)
    assert problem["code"] == "unavailable"
    assert int(response.headers["retry-after"]) >= 1


_DOMAIN_ERRORS = {
    "not_found": (NotFound("no such thing"), 404),
    "forbidden": (Forbidden("not yours"), 403),
    "invalid": (Invalid("bad value"), 422),
    "conflict": (Conflict("already there"), 409),
    "unavailable": (Unavailable("backend down"), 503),
    "rate_limited": (RateLimited("slow down", retry_after_s=2.5), 429),
    "unsupported": (Unsupported("cannot do that"), 501),
}


@get("/api/test/raise/{name:str}")
async def raise_domain_error(name: FromPath[str]) -> None:
    raise _DOMAIN_ERRORS[name][0]


@pytest.mark.parametrize("name", sorted(_DOMAIN_ERRORS))
async def test_each_domain_error_maps_to_its_status(
    tmp_path: Path, app_factory: Callable[..., Client], name: str
) -> None:
    error, status = _DOMAIN_ERRORS[name]
    async with app_factory(make_settings(tmp_path), extra_route_handlers=[raise_domain_error]) as client:
        response = await client.get(f"/api/test/raise/{name}", headers=bearer("alice"))
    problem = _problem(response, status)
    assert problem["code"] == name
    assert problem["detail"] == str(error)
    if status in (429, 503):
        assert int(response.headers["retry-after"]) >= 1
    if name == "rate_limited":
        assert response.headers["retry-after"] == "3"


@get("/api/test/boom")
async def boom() -> None:
    raise RuntimeError("connection string postgresql://admin:hunter2@db")


@pytest.mark.parametrize("environment", [Environment.PRODUCTION, Environment.DEVELOPMENT])
async def test_unexpected_errors_are_500_and_sanitised_outside_development(
    tmp_path: Path, app_factory: Callable[..., Client], environment: Environment
) -> None:
    settings = make_settings(tmp_path, environment=environment)
    async with app_factory(settings, extra_route_handlers=[boom]) as client:
        response = await client.get("/api/test/boom", headers=bearer("alice"))
    problem = _problem(response, 500)
    assert problem["code"] == "internal_error"
    if environment is Environment.PRODUCTION:
        assert "hunter2" not in response.text
        assert problem["detail"] == "An unexpected error occurred."
    else:
        assert "RuntimeError" in problem["detail"]


# ------------------------------------------------------------------ request ids and CORS


async def test_a_request_id_is_generated_or_propagated(client: Client, headers: dict[str, str]) -> None:
    generated = await client.get("/api/auth/me", headers=headers)
    assert len(generated.headers["x-request-id"]) >= 16
    propagated = await client.get("/api/auth/me", headers={**headers, "X-Request-ID": "trace-abc.123"})
    assert propagated.headers["x-request-id"] == "trace-abc.123"
    # an id that could forge log lines is replaced
    forged = await client.get("/api/auth/me", headers={**headers, "X-Request-ID": "x" * 300})
    assert forged.headers["x-request-id"] != "x" * 300
    unauthorised = await client.get("/api/auth/me", headers={"X-Request-ID": "req-401"})
    assert unauthorised.headers["x-request-id"] == "req-401"
    assert unauthorised.json()["request_id"] == "req-401"
    missing = await client.get("/nowhere", headers={"X-Request-ID": "req-404"})
    assert missing.headers["x-request-id"] == "req-404"


async def test_cors_allows_the_configured_origins_only(tmp_path: Path, app_factory: Callable[..., Client]) -> None:
    settings = make_settings(tmp_path, cors_origins=("https://app.example.com",))
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    async with app_factory(settings) as client:
        allowed = await client.options("/api/memories", headers={"Origin": "https://app.example.com", **preflight})
        refused = await client.options("/api/memories", headers={"Origin": "https://evil.example", **preflight})
        simple = await client.get("/health", headers={"Origin": "https://app.example.com"})
    assert allowed.status_code in (200, 204)
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert refused.headers.get("access-control-allow-origin") != "https://evil.example"
    assert simple.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
