"""Prometheus metrics on their own port: series move with a chat turn and a search, no token, bounded labels."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from jyntrix_adapters.inprocess.keyword_index import InProcessKeywordIndex
from jyntrix_bootstrap.settings import SettingsError, load_settings
from jyntrix_cli.cli import main
from jyntrix_domain.model import Hit, MemoryType, UserId
from jyntrix_http.app import create_app
from jyntrix_http.metrics import MetricsEndpoint
from testsupport.app import Client, bearer, make_settings
from testsupport.server import free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
PHASES = ("setup", "query_analysis", "retrieval", "context_building", "llm_streaming", "save_response", "enqueue_tasks")
STRATEGIES = ("vector", "keyword", "graph", "profile", "recent")


async def scrape(url: str, **headers: str) -> Samples:
    # From a thread: the scrape reads the task queue on the app's loop, which is this test's loop.
    response = await asyncio.to_thread(httpx.get, url, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
async def served(tmp_path: Path, app_factory: Callable[..., Any]) -> AsyncIterator[tuple[Client, str]]:
    async with app_factory(make_settings(tmp_path, metrics_port="0"), serve_metrics=True) as client:
        endpoint: MetricsEndpoint = client.app.state.metrics_endpoint
        host, port = endpoint.address
        yield client, f"http://{host}:{port}/metrics"


async def test_a_chat_turn_and_a_search_move_their_series(served: tuple[Client, str], headers: dict[str, str]) -> None:
    client, url = served
    before = await scrape(url)
    turn = await client.post(
        "/api/chat/messages/stream", json={"content": "My sister Maya lives in Lisbon."}, headers=headers
    )
    assert turn.status_code == 200
    search = await client.post("/api/memories/search", json={"query": "where does Maya live"}, headers=headers)
    assert search.status_code == 200
    tasks = client.app.state.runtime.tasks
    await tasks.drain(scheduled=False)  # extraction searches while consolidating: not chat figures
    after = await scrape(url)

    requests = "jyntrix_http_requests_total"
    assert moved(before, after, requests, method="POST", route="/api/chat/messages/stream", status="200") == 1
    assert moved(before, after, requests, method="POST", route="/api/memories/search", status="200") == 1
    for phase in PHASES:
        assert moved(before, after, "jyntrix_chat_phase_duration_seconds_count", phase=phase) == 1, phase
    for strategy in STRATEGIES:
        # the turn's and the search's runs; extraction's lookups (record=False) are not counted
        assert moved(before, after, "jyntrix_retrieval_strategy_runs_total", strategy=strategy, outcome="ok") == 2
        assert moved(before, after, "jyntrix_retrieval_strategy_duration_seconds_count", strategy=strategy) == 2
    assert moved(before, after, "jyntrix_embedder_batch_size_count", call="embed") >= 1
    # What is left is the idle conversations' summaries, scheduled for later.
    assert value(after, "jyntrix_task_queue_depth") == tasks.scheduled > 0
    assert value(after, "jyntrix_task_dead_letters") == 0
    assert value(after, "jyntrix_extraction_batches_pending") == 0
    assert ("jyntrix_task_queue_depth", ()) in after


async def test_the_metrics_port_needs_no_token_and_the_api_port_has_no_metrics(
    served: tuple[Client, str], headers: dict[str, str]
) -> None:
    client, url = served
    assert await scrape(url)
    assert await scrape(url, Authorization="Bearer not-a-token")
    for path in ("/metrics", "/api/metrics"):
        assert (await client.get(path)).status_code == 404
        assert (await client.get(path, headers=headers)).status_code == 404


async def test_two_users_requests_produce_the_same_label_sets(served: tuple[Client, str]) -> None:
    client, url = served
    users = ["alice-4f1c2a", "bob-9d03e7"]
    label_sets = []
    for user in users:
        before = await scrape(url)
        created = await client.post(
            "/api/memories", json={"content": f"{user} likes tea", "type": "semantic"}, headers=bearer(user)
        )
        assert created.status_code == 201, created.text
        memory_id = created.json()["id"]
        assert (await client.get(f"/api/memories/{memory_id}", headers=bearer(user))).status_code == 200
        after = await scrape(url)
        label_sets.append(
            {
                key
                for key in after
                if after[key] != before.get(key, 0.0) and not key[0].endswith(("_bucket", "_created"))
            }
        )
        for name, labels in after:
            assert all(user not in v and memory_id not in v for _, v in labels), (name, labels)
    assert label_sets[0] == label_sets[1]
    routes = {dict(labels).get("route") for _, labels in label_sets[0]} - {None}
    assert "/api/memories/{memory_id}" in routes


class _SlowKeywords(InProcessKeywordIndex):
    async def search(
        self, user_id: UserId, query: str, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        await asyncio.sleep(5)
        return await super().search(user_id, query, limit, types)


async def test_a_strategy_timeout_is_counted_by_strategy_and_outcome(
    tmp_path: Path, app_factory: Callable[..., Any], headers: dict[str, str]
) -> None:
    base = make_settings(tmp_path, metrics_port="0")
    settings = msgspec.structs.replace(base, retrieval=msgspec.structs.replace(base.retrieval, strategy_timeout_s=0.05))
    async with app_factory(settings, serve_metrics=True, overrides={"keywords": _SlowKeywords()}) as client:
        host, port = client.app.state.metrics_endpoint.address
        url = f"http://{host}:{port}/metrics"
        before = await scrape(url)
        found = await client.post("/api/memories/search", json={"query": "anything"}, headers=headers)
        assert found.status_code == 200
        after = await scrape(url)
    runs = "jyntrix_retrieval_strategy_runs_total"
    assert moved(before, after, runs, strategy="keyword", outcome="timeout") == 1
    assert moved(before, after, runs, strategy="keyword", outcome="ok") == 0
    assert moved(before, after, runs, strategy="vector", outcome="ok") == 1


@pytest.mark.parametrize("port", ["off", "OFF", "0", "9464", "65535"])
def test_metrics_port_takes_a_port_zero_or_off(tmp_path: Path, port: str) -> None:
    settings = load_settings({"JYNTRIX_DATA_DIR": str(tmp_path), "METRICS_PORT": port})
    assert settings.metrics_bind == (None if port.lower() == "off" else ("127.0.0.1", int(port)))


@pytest.mark.parametrize("port", ["eighty", "65536", "-1", "on"])
def test_a_bad_metrics_port_stops_start_up_naming_it(tmp_path: Path, port: str) -> None:
    with pytest.raises(SettingsError, match="METRICS_PORT"):
        load_settings({"JYNTRIX_DATA_DIR": str(tmp_path), "METRICS_PORT": port})


def test_metrics_are_loopback_only_by_default(tmp_path: Path) -> None:
    assert load_settings({"JYNTRIX_DATA_DIR": str(tmp_path)}).metrics_bind == ("127.0.0.1", 9464)


async def test_refusals_count_under_the_route_they_were_refused_on(
    tmp_path: Path, app_factory: Callable[..., Any]
) -> None:
    settings = make_settings(tmp_path, metrics_port="0", rate_limit_requests=1)
    async with app_factory(settings, serve_metrics=True) as client:
        host, port = client.app.state.metrics_endpoint.address
        url = f"http://{host}:{port}/metrics"
        headers = {**bearer("counted"), "Accept": "application/json, text/event-stream"}
        before = await scrape(url)
        for _ in range(2):
            await client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
            await client.get("/api/memories", headers=headers)
        await client.get("/nowhere", headers=headers)
        after = await scrape(url)
    requests = "jyntrix_http_requests_total"
    assert moved(before, after, requests, method="POST", route="/mcp", status="429") == 1
    assert moved(before, after, requests, method="GET", route="/api/memories", status="429") == 2
    # A request that matches no route is not counted, as docs/metrics.md says; nothing is counted as "unmatched".
    assert not [key for key in after if dict(key[1]).get("route") == "unmatched"]


def test_a_taken_metrics_port_stops_start_up_in_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as holder:  # another server's metrics endpoint
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        monkeypatch.setenv("JYNTRIX_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("METRICS_PORT", str(port))
        monkeypatch.setenv("PORT", str(free_port()))
        assert main(["serve"]) == 2
        said = capsys.readouterr().err.strip().splitlines()
        assert len(said) == 1
        assert said[0].startswith(f"jyntrix: METRICS_PORT={port} on 127.0.0.1 is taken")
        assert "its own METRICS_PORT" in said[0]

        # Were the port taken after that check, start-up would still stop with that cause, not a KeyError.
        settings = make_settings(tmp_path, metrics_port=str(port))
        with pytest.raises(BaseException) as caught, TestClient(create_app(settings, serve_metrics=True)):
            pass
    causes = list(_leaves(caught.value))
    assert not [cause for cause in causes if isinstance(cause, KeyError)], causes
    assert any("set METRICS_PORT to a free port" in str(cause) for cause in causes), causes


def _leaves(exc: BaseException) -> Any:
    """The exceptions inside (nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def _statuses(url: str, hosts: tuple[str, ...]) -> dict[str, int]:
    return {host: httpx.get(url, headers={"Host": host}, timeout=10).status_code for host in hosts}


async def test_a_loopback_metrics_port_answers_only_the_hosts_the_api_answers(
    tmp_path: Path, app_factory: Callable[..., Any]
) -> None:
    # A page on attacker.example rebound to 127.0.0.1 would otherwise read the figures as a same-origin page.
    settings = make_settings(tmp_path, metrics_port="0", allowed_hosts=("metrics.example.com",))
    async with app_factory(settings, serve_metrics=True) as client:
        host, port = client.app.state.metrics_endpoint.address
        url = f"http://{host}:{port}/metrics"
        hosts = ("attacker.example", f"attacker.example:{port}", f"localhost:{port}@attacker.example", "")
        hosts += (f"127.0.0.1:{port}", "localhost", "metrics.example.com")
        statuses = await asyncio.to_thread(_statuses, url, hosts)
        refused = await asyncio.to_thread(httpx.get, url, headers={"Host": "attacker.example"}, timeout=10)
    assert statuses == {
        "attacker.example": 400,
        f"attacker.example:{port}": 400,
        f"localhost:{port}@attacker.example": 400,
        "": 400,
        f"127.0.0.1:{port}": 200,
        "localhost": 200,
        "metrics.example.com": 200,
    }
    assert "ALLOWED_HOSTS" in refused.text and "jyntrix_" not in refused.text


async def test_a_metrics_port_bound_for_remote_scrapers_answers_any_host(
    tmp_path: Path, app_factory: Callable[..., Any]
) -> None:
    settings = make_settings(tmp_path, metrics_port="0", metrics_host="0.0.0.0")
    async with app_factory(settings, serve_metrics=True) as client:
        _, port = client.app.state.metrics_endpoint.address
        statuses = await asyncio.to_thread(_statuses, f"http://127.0.0.1:{port}/metrics", ("10.0.0.5:9464",))
    assert statuses == {"10.0.0.5:9464": 200}
