"""Analytics of the caller's own traffic: latency percentiles, strategy rates, usage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jyntrix_domain.model import Span, SpanKind
from testsupport.app import Client, drain_tasks, flush_analytics, in_process_overrides, make_settings


async def _chat(client: Client, headers: dict[str, str], content: str) -> None:
    response = await client.post("/api/chat/messages/stream", json={"content": content}, headers=headers)
    assert response.status_code == 200


async def test_latency_strategies_and_usage_after_chat_turns(client: Client, headers: dict[str, str]) -> None:
    await client.post("/api/memories", json={"content": "My dog is called Rex"}, headers=headers)
    await _chat(client, headers, "What is my dog called?")
    await _chat(client, headers, "Do you remember my dog's name?")
    flush_analytics(client)

    latency = (await client.get("/api/v1/analytics/latency", headers=headers)).json()
    phases = {p["name"]: p for p in latency["phases"]}
    assert {"setup", "query_analysis", "retrieval", "context_building", "llm_streaming"} <= set(phases)
    assert phases["llm_streaming"]["count"] == 2
    for p in phases.values():
        assert p["p50_ms"] <= p["p95_ms"] <= p["p99_ms"]
    assert {s["name"] for s in latency["strategies"]} == {"vector", "keyword", "graph", "profile", "recent"}

    strategies = (await client.get("/api/v1/analytics/strategies", headers=headers)).json()["strategies"]
    by_name = {s["name"]: s for s in strategies}
    assert by_name["vector"]["runs"] == 2
    assert by_name["vector"]["hit_rate"] == 1.0
    assert all(0.0 <= s["failure_rate"] <= 1.0 for s in strategies)

    usage = (await client.get("/api/v1/analytics/usage", headers=headers)).json()["usage"]
    assert usage["turns"] == 2
    assert usage["users"] == 1
    assert usage["output_tokens"] > 0


async def test_analytics_are_scoped_to_the_caller(
    client: Client, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    await _chat(client, headers, "I like green tea")
    flush_analytics(client)
    usage = (await client.get("/api/v1/analytics/usage", headers=other_headers)).json()["usage"]
    assert usage == {"turns": 0, "users": 0, "input_tokens": 0, "output_tokens": 0}
    assert (await client.get("/api/v1/analytics/latency", headers=other_headers)).json()["phases"] == []


async def test_the_window_is_honoured_and_validated(client: Client, headers: dict[str, str]) -> None:
    await _chat(client, headers, "Hello")
    flush_analytics(client)
    past = datetime.now(UTC) - timedelta(days=10)
    old = await client.get(
        "/api/v1/analytics/usage",
        params={"since": past.isoformat(), "until": (past + timedelta(days=1)).isoformat()},
        headers=headers,
    )
    assert old.status_code == 200
    assert old.json()["usage"]["turns"] == 0
    backwards = await client.get(
        "/api/v1/analytics/usage",
        params={"since": datetime.now(UTC).isoformat(), "until": past.isoformat()},
        headers=headers,
    )
    assert backwards.status_code == 422
    naive = await client.get("/api/v1/analytics/latency", params={"since": "2025-01-01T00:00:00"}, headers=headers)
    assert naive.status_code == 422


async def test_the_embedded_runner_purges_spans_past_retention(
    tmp_path: Path, app_factory: Callable[..., Client]
) -> None:
    overrides = in_process_overrides()
    sink = overrides["storage"].analytics
    now = datetime.now(UTC)
    old, recent = (
        Span(
            id=f"span-{age}",
            trace_id="t",
            name="setup",
            kind=SpanKind.PHASE,
            started_at=now - timedelta(days=age),
            duration_ms=1.0,
            user_id="someone",
        )
        for age in (200, 5)
    )
    await sink.write([old, recent])
    async with app_factory(make_settings(tmp_path), overrides=overrides) as client:
        drain_tasks(client)
    kept = await sink.query(now - timedelta(days=400), now)
    assert [s.id for s in kept] == ["span-5"]
