"""The real `jyntrix serve` publishes its metrics on a port of its own, logged at start-up, without a token."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.chat_turns import turn
from testsupport.server import serving

pytestmark = pytest.mark.slow


def counts(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


async def test_a_served_turn_and_search_show_on_the_metrics_port(tmp_path: Path, minilm_model_dir: Path) -> None:
    # Port 0: the system picks a free one, and the log says which.
    with serving(tmp_path, minilm_model_dir, METRICS_PORT="0", OFFLINE_LLM_TOKEN_DELAY_S="0") as server:
        found = re.search(r"metrics: Prometheus text format on http://127\.0\.0\.1:(\d+)/metrics", server.log())
        assert found, server.log()
        metrics_url = f"http://127.0.0.1:{found.group(1)}/metrics"
        headers = server.token("metrics-user")
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            await turn(client, headers, "My sister Maya lives in Lisbon.")
            searched = await client.post("/api/memories/search", json={"query": "Maya"}, headers=headers)
            assert searched.status_code == 200
            assert (await client.get("/metrics", headers=headers)).status_code == 404
            scraped = await client.get(metrics_url)  # no token
    assert scraped.status_code == 200
    requests = counts(scraped.text, "jyntrix_http_requests_total")
    assert requests[(("method", "POST"), ("route", "/api/memories/search"), ("status", "200"))] == 1
    assert requests[(("method", "POST"), ("route", "/api/chat/messages/stream"), ("status", "200"))] == 1
    phases = counts(scraped.text, "jyntrix_chat_phase_duration_seconds_count")
    assert phases[(("phase", "retrieval"),)] == 1
    runs = counts(scraped.text, "jyntrix_retrieval_strategy_runs_total")
    assert runs[(("outcome", "ok"), ("strategy", "keyword"))] == 2
    assert counts(scraped.text, "jyntrix_embedder_batch_size_count")
    assert "metrics-user" not in scraped.text
