"""Index, liveness, readiness and the OpenAPI schema: public, and honest about dependencies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from jyntrix_bootstrap.settings import Deployment
from testsupport.app import Client, in_process_overrides, make_settings, services_of


async def test_index_names_the_service_without_a_token(client: Client) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "jyntrix"
    assert body["deployment"] == body["profile"] == "in_process"
    assert body["docs"] == "/schema"


async def test_liveness_answers_without_a_token(client: Client) -> None:
    for path in ("/health", "/health/live"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


async def test_readiness_checks_every_adapter(client: Client) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    expected = {"database", "vector_index", "keyword_index", "embedder", "language_model", "cache"}
    expected |= {"rate_limiter", "task_queue"}
    assert set(body["checks"]) == expected
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert body["checks"]["language_model"]["backend"] == "offline"


async def test_readiness_is_503_when_the_database_is_down(
    tmp_path: Path, postgres_dsn: str, app_factory: Callable[..., Client]
) -> None:
    settings = make_settings(tmp_path, jyntrix_deployment=Deployment.EMBEDDED, database_url=postgres_dsn)
    async with app_factory(settings, overrides=in_process_overrides("storage")) as client:
        first = await client.get("/health/ready")
        assert first.status_code == 200, first.text
        assert first.json()["checks"]["database"]["backend"] == "postgres"
        # The database goes away under the running app (its pool lives on the app's event loop).
        client.blocking_portal.call(services_of(client).storage.postgres.db.pool.close)
        response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "error"
    assert body["checks"]["vector_index"]["status"] == "ok"


async def test_openapi_schema_is_public_and_lists_every_router(client: Client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/auth/me",
        "/api/chat/conversations",
        "/api/chat/conversations/{conversation_id}/messages/stream",
        "/api/chat/messages/stream",
        "/api/memories",
        "/api/memories/search",
        "/api/memories/import",
        "/api/memories/export",
        "/api/memories/{memory_id}/history",
        "/api/profile",
        "/api/v1/analytics/latency",
        "/api/v1/analytics/strategies",
        "/api/v1/analytics/usage",
    ):
        assert path in paths, path
    schemes = response.json()["components"]["securitySchemes"]
    assert any(s.get("scheme") == "Bearer" for s in schemes.values())
