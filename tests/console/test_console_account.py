"""The account pages of the console: the analytics charts show what the API reports, and forget-me exports
then deletes everything behind a typed confirmation."""

from __future__ import annotations

import json
import time

import pytest

from tests.console.conftest import Console
from tests.console.seeded import (
    EXTRACTION_TIMEOUT_S,
    MEMORIES,
    loaded,
    signed_in_with_memories,
)

pytestmark = pytest.mark.slow


def test_analytics_charts_show_the_latency_the_api_reports(console: Console) -> None:
    page = console.page
    console.sign_in()
    console.go("#/chat", "chat")
    for question in ("Hello there", "Do you remember anything about me?"):
        console.chat(question)
    # Spans reach the sink in batches (of a hundred, or every ten seconds): wait until the API reports some.
    deadline = time.monotonic() + EXTRACTION_TIMEOUT_S
    while not console.api("GET", "/api/v1/analytics/latency")["phases"] and time.monotonic() < deadline:
        time.sleep(0.5)
    console.go("#/analytics", "analytics")
    page.wait_for_selector("#chart-phases rect[data-series=p50]")
    with (
        page.expect_response(lambda r: "/api/v1/analytics/latency" in r.url) as answered,
        page.expect_response(lambda r: "/api/v1/analytics/strategies" in r.url) as rated,
    ):
        page.click("#windows [data-window=hour]")
    page.wait_for_selector("#windows [data-window=hour].active")
    page.wait_for_selector("#chart-rates rect[data-series=hit]")
    latency = answered.value.json()
    shown = page.eval_on_selector_all(
        "#chart-phases rect[data-series]",
        "rs => rs.map(r => [r.dataset.row, r.dataset.series, Number(r.dataset.value)])",
    )
    expected = [(p["name"], series, p[f"{series}_ms"]) for p in latency["phases"] for series in ("p50", "p95")]
    assert [tuple(bar) for bar in shown] == expected
    assert {"retrieval", "llm_streaming"} <= {name for name, _, _ in expected}
    rates = page.eval_on_selector_all("#chart-rates rect[data-series=hit]", "rs => rs.map(r => r.dataset.row)")
    strategies = rated.value.json()["strategies"]
    assert rates == [f"{st['name']} ({st['runs']})" for st in strategies]
    console.shot("analytics")


# ------------------------------------------------------------------ forget me


def test_forget_me_exports_then_deletes_everything_behind_a_typed_confirmation(console: Console) -> None:
    page = signed_in_with_memories(console, "chat")
    console.chat("Hello, I like hiking.")

    console.go("#/forget", "forget")
    with page.expect_download() as downloading:
        page.click("#export")
    download = downloading.value
    assert download.suggested_filename.startswith("jyntrix-export-")
    saved = console.out / download.suggested_filename
    download.save_as(saved)
    exported = json.loads(saved.read_text())
    assert exported["user_id"] == console.user
    assert {m["content"] for m in exported["memories"]} >= {m["content"] for m in MEMORIES}

    assert page.is_disabled("#delete-all")
    page.fill("#confirm-text", "forget")
    assert page.is_disabled("#delete-all")
    page.fill("#confirm-text", "forget me")
    assert page.is_enabled("#delete-all")
    page.click("#delete-all")
    page.wait_for_selector("#verification")
    assert f"Deleted {len(exported['memories'])} memories and 1 conversations" in page.text_content("#deleted-counts")
    checks = page.eval_on_selector_all("#verification tr", "rows => rows.map(r => [r.dataset.check, r.dataset.count])")
    assert checks == [["search", "0"], ["list", "0"], ["export", "0"], ["export", "0"]]
    console.shot("forgotten")

    console.go("#/memories", "memories")
    loaded(console, 0)
    console.go("#/search", "search")
    page.fill("#search-query", "green tea")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#search-summary:has-text('0 results')")
    assert console.api("GET", "/api/memories/export")["memories"] == []
    assert console.api("GET", "/api/chat/conversations")["items"] == []
