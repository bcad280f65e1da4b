"""A search says which retrieval strategies failed; one where all failed is a 503, not an empty 200."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from jyntrix_domain.retrieval import RetrievalService
from testsupport.app import Client, services_of


class Down:
    """Any port whose backend is down: every call raises."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Callable[..., Awaitable[Any]]:
        async def down(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError(f"{self._name} backend is down")

        return down


def _retrieval(client: Client) -> RetrievalService:
    retrieval: RetrievalService = services_of(client).services.memories._retrieval
    return retrieval


async def test_a_failing_strategy_makes_the_search_degraded_and_is_listed(
    client: Client, headers: dict[str, str]
) -> None:
    made = await client.post("/api/memories", json={"content": "My sister Maya lives in Lisbon"}, headers=headers)
    assert made.status_code == 201
    retrieval = _retrieval(client)
    retrieval._ports = replace(retrieval._ports, vectors=Down("vector"))  # type: ignore[arg-type]
    response = await client.post("/api/memories/search", json={"query": "Where does Maya live?"}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["degraded"] is True
    assert [r["memory"]["content"] for r in body["results"]] == ["My sister Maya lives in Lisbon"]
    outcomes = {o["name"]: o for o in body["strategies"]}
    assert set(outcomes) == {"vector", "keyword", "graph", "profile", "recent"}
    assert outcomes["vector"]["status"] == "error" and outcomes["vector"]["hits"] == 0
    assert "vector backend is down" in outcomes["vector"]["error"]
    assert outcomes["keyword"]["status"] == "ok" and outcomes["keyword"]["hits"] == 1
    assert outcomes["keyword"]["duration_ms"] >= 0


async def test_a_healthy_search_is_not_degraded(client: Client, headers: dict[str, str]) -> None:
    await client.post("/api/memories", json={"content": "I enjoy baking sourdough bread"}, headers=headers)
    response = await client.post("/api/memories/search", json={"query": "sourdough"}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] is False
    assert all(o["status"] == "ok" and o["error"] is None for o in body["strategies"])


async def test_a_search_whose_every_strategy_fails_is_a_503_with_retry_after(
    client: Client, headers: dict[str, str]
) -> None:
    made = await client.post(
        "/api/memories", json={"content": "My sister Maya lives in Lisbon", "entities": ["Maya"]}, headers=headers
    )
    assert made.status_code == 201
    retrieval = _retrieval(client)
    retrieval._ports = replace(
        retrieval._ports,
        vectors=Down("vector"),  # type: ignore[arg-type]
        keywords=Down("keyword"),  # type: ignore[arg-type]
        graph=Down("graph"),  # type: ignore[arg-type]
        store=Down("store"),  # type: ignore[arg-type]
    )
    response = await client.post("/api/memories/search", json={"query": "Where does Maya live?"}, headers=headers)
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "every retrieval strategy failed" in problem["detail"]
    assert "graph (error)" in problem["detail"] and "vector (error)" in problem["detail"]
