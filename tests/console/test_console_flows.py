"""The console's flows in a real browser against the real server: sign in, import and filter, history after a
supersede, search bars that match the API, a streamed chat turn, and forgetting everything."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx
import pytest

from jyntrix_domain.signals import SIGNAL_NAMES
from jyntrix_http.routes.console import CONTENT_SECURITY_POLICY
from tests.console.conftest import Console
from tests.console.seeded import (
    IMG_CONTENT,
    MEMORIES,
    SCRIPT_CONTENT,
    assert_markup_stayed_text,
    loaded,
    rows,
    signed_in_with_memories,
    wait_for_memory,
)

pytestmark = pytest.mark.slow


def test_sign_in_with_a_pasted_token_or_a_dev_token_kept_only_in_the_tab(console: Console) -> None:
    page = console.page
    response = httpx.get(console.url)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY

    page.goto(console.url)
    page.wait_for_selector("[data-view=signin]")
    assert page.is_hidden("#nav")
    page.fill("#token-input", "not-a-token")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#flash:not([hidden])")
    assert "401" in page.text_content("#flash")
    assert page.evaluate("sessionStorage.length") == 0

    token = console.headers()["Authorization"].removeprefix("Bearer ")
    page.fill("#token-input", token)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("[data-view=memories]")
    assert page.text_content("#who") == f"signed in as {console.user}"
    assert page.evaluate("Object.values(sessionStorage)") == [token]
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    console.shot("signed-in")

    page.click("#sign-out")
    page.wait_for_selector("[data-view=signin]")
    assert page.evaluate("sessionStorage.length") == 0

    console.sign_in()  # the development button
    api_requests = [r for r in console.requests if "/api/" in r.url and "/api/console/" not in r.url]
    assert api_requests
    for request in api_requests:
        assert request.headers.get("authorization", "").startswith("Bearer "), request.url
    assert all(token not in r.url for r in console.requests)


def test_the_dev_token_route_mints_tokens_the_api_accepts(console: Console) -> None:
    minted = httpx.post(f"{console.server.base_url}/api/console/dev-token", json={"user_id": console.user}).json()
    me = httpx.get(f"{console.server.base_url}/api/auth/me", headers={"Authorization": f"Bearer {minted['token']}"})
    assert me.json()["id"] == console.user


# ------------------------------------------------------------------ memories


def test_import_then_filter_by_type_text_and_dates_then_open_one(console: Console) -> None:
    page = console.page
    console.sign_in()
    page.click("details.import summary")
    page.fill("#import-json", json.dumps(MEMORIES))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#flash:has-text('Imported 7 memories.')")  # shown as the list starts reloading
    loaded(console, 7)
    counts = page.eval_on_selector_all(
        "#type-counts [data-type]", "bs => bs.map(b => [b.dataset.type, b.dataset.count])"
    )
    assert dict(counts) == {"profile": "1", "semantic": "3", "episodic": "2", "procedural": "1"}
    texts = [row["text"] for row in rows(console)]
    assert SCRIPT_CONTENT in texts and IMG_CONTENT in texts  # shown as the text they are
    assert_markup_stayed_text(console)
    console.shot("memories-imported")

    page.select_option("#filter-type", "episodic")
    loaded(console, 2)
    assert {row["type"] for row in rows(console)} == {"episodic"}

    page.select_option("#filter-type", "")
    page.fill("#filter-text", "Lisbon")
    page.click("#filters button[type=submit]")
    loaded(console, 2)
    assert all("Lisbon" in row["text"] for row in rows(console))
    counts = dict(
        page.eval_on_selector_all("#type-counts [data-type]", "bs => bs.map(b => [b.dataset.type, b.dataset.count])")
    )
    assert counts == {"profile": "0", "semantic": "1", "episodic": "1", "procedural": "0"}

    page.fill("#filter-text", "")
    page.fill("#filter-after", (datetime.now() - timedelta(days=30)).strftime("%Y-%m-%d"))
    page.fill("#filter-before", (datetime.now() - timedelta(days=4)).strftime("%Y-%m-%d"))
    page.click("#filters button[type=submit]")
    loaded(console, 2)
    assert {row["text"] for row in rows(console)} == {MEMORIES[3]["content"], MEMORIES[4]["content"]}

    page.fill("#filter-after", "")
    page.fill("#filter-before", "")
    page.fill("#filter-text", "sister")
    page.click("#filters button[type=submit]")
    loaded(console, 1)
    page.click("#memory-rows a.memory-link")
    page.wait_for_selector("[data-view=memory]")
    assert page.text_content("#memory-content") == "My sister Maya lives in Lisbon"
    assert page.eval_on_selector_all("#entities .badge", "bs => bs.map(b => b.textContent)") == ["Maya", "Lisbon"]
    console.shot("memory-detail")

    script_memory = next(m for m in console.api("GET", "/api/memories?contains=notebook")["items"])
    console.go(f"#/memory/{script_memory['id']}", "memory")
    assert page.text_content("#memory-content") == SCRIPT_CONTENT
    assert_markup_stayed_text(console)


def test_history_shows_the_supersession_chain_and_its_timeline(console: Console) -> None:
    page = console.page
    console.sign_in()
    original = console.api("POST", "/api/memories", json={"content": "I work at Initech", "type": "semantic"})
    console.go(f"#/memory/{original['id']}", "memory")
    assert page.locator("#chain > li").count() == 1
    page.fill("#supersede-content", "I work at Globex now")
    page.click("#supersede-form button[type=submit]")
    page.wait_for_selector("#memory-content:has-text('Globex')")

    versions = page.eval_on_selector_all(
        "#chain > li",
        "items => items.map(i => [i.dataset.memoryId, [...i.querySelectorAll('.change')].map(c => c.dataset.kind)])",
    )
    successor_id = page.evaluate("location.hash").split("/")[-1]
    assert versions == [[original["id"], ["create", "supersede"]], [successor_id, ["create"]]]
    bars = page.eval_on_selector_all(
        "svg.timeline rect.version", "rs => rs.map(r => [r.dataset.memoryId, r.getAttribute('class')])"
    )
    assert bars == [[original["id"], "version past"], [successor_id, "version selected"]]
    api_history = console.api("GET", f"/api/memories/{original['id']}/history")["changes"]
    assert [c["kind"] for c in api_history] == ["create", "supersede"]
    console.shot("history-after-supersede")

    page.fill("#edit-content", "I work at Globex, in sales")
    page.click("#edit-form button[type=submit]")
    page.wait_for_selector("#memory-content:has-text('in sales')")
    kinds = [c["kind"] for c in console.api("GET", f"/api/memories/{successor_id}/history")["changes"]]
    assert kinds == ["create", "update"]

    page.click(f"#chain > li[data-memory-id='{original['id']}'] a")
    page.wait_for_selector("#memory-content:has-text('Initech')")
    assert page.locator("#not-current").count() == 1  # only the current version can be edited or superseded
    page.click("#delete-memory")
    page.click("#delete-memory")  # the second click confirms
    page.wait_for_selector("[data-view=memories]")
    gone = httpx.get(f"{console.server.base_url}/api/memories/{original['id']}", headers=console.headers())
    assert gone.status_code == 404


# ------------------------------------------------------------------ search


def test_search_bars_show_the_signals_weights_and_contributions_the_api_returned(console: Console) -> None:
    page = signed_in_with_memories(console, "search")
    page.fill("#search-query", "green tea in the morning")
    with page.expect_response(lambda r: r.url.endswith("/api/memories/search")) as answered:
        page.click("#search-form button[type=submit]")
    returned = answered.value.json()["results"]
    page.wait_for_selector("#results li.result")
    assert returned and returned[0]["memory"]["content"] == "I love green tea in the morning"

    shown = page.eval_on_selector_all(
        "#results li.result",
        """items => items.map(item => ({
            id: item.dataset.memoryId,
            score: Number(item.dataset.score),
            text: item.querySelector('.result-content').textContent,
            rows: [...item.querySelectorAll('tr.signal-row')].map(row => ({
                name: row.dataset.signal,
                value: Number(row.dataset.value),
                weight: Number(row.dataset.weight),
                contribution: Number(row.dataset.contribution),
                cells: [...row.querySelectorAll('td.n')].map(td => td.textContent),
                widths: [...row.querySelectorAll('rect')].map(r => Number(r.getAttribute('width'))),
            })),
        }))""",
    )
    assert [item["id"] for item in shown] == [r["memory"]["id"] for r in returned]
    for item, result in zip(shown, returned, strict=True):
        scores = result["scores"]
        assert item["score"] == result["score"]
        assert item["text"] == result["memory"]["content"]
        assert [row["name"] for row in item["rows"]] == list(scores["signals"])  # the API's names, in its order
        for row in item["rows"]:
            name = row["name"]
            assert row["value"] == scores["signals"][name]
            assert row["weight"] == scores["weights"][name]
            assert row["contribution"] == scores["contributions"][name]
            value, weight, contribution = row["value"], row["weight"], row["contribution"]
            assert row["cells"] == [f"{value:.3f}", f"\u00d7 {weight:.2f}", f"= {contribution:.3f}"]
            track, signal_bar, contribution_bar = row["widths"]
            assert signal_bar == pytest.approx(min(1.0, row["value"]) * track, abs=0.01)
            assert contribution_bar == pytest.approx(min(1.0, row["contribution"]) * track, abs=0.01)
    assert_markup_stayed_text(console)

    # The same search straight from the API agrees (only recency moves, by the seconds between the two).
    again = console.api("POST", "/api/memories/search", json={"query": "green tea in the morning", "limit": 10})
    first = again["results"][0]
    assert first["memory"]["id"] == shown[0]["id"]
    for row in shown[0]["rows"]:
        assert row["value"] == pytest.approx(first["scores"]["signals"][row["name"]], abs=1e-4)
        assert row["contribution"] == pytest.approx(first["scores"]["contributions"][row["name"]], abs=1e-4)
    console.shot("search")


# ------------------------------------------------------------------ chat


def test_a_chat_turn_streams_into_the_page_with_its_context_and_timings(console: Console) -> None:
    page = signed_in_with_memories(console, "chat")
    budgets = httpx.get(f"{console.server.base_url}/api/console/config").json()["budgets"]
    question = "What tea do I like in the morning?"
    page.fill("#chat-input", question)
    page.click("#chat-send")

    # Mid-stream: some tokens are on the page, the context event is already shown, `done` has not come.
    page.wait_for_function(
        "() => { const t = document.querySelector('#chat-log li.chat-turn:last-child');"
        " return t.dataset.state === 'streaming' && Number(t.querySelector('.answer').dataset.tokens) >= 2; }"
    )
    answer = "#chat-log li.chat-turn:last-child .answer"
    early = int(page.get_attribute(answer, "data-tokens") or 0)
    assert page.locator("#chat-log li.context-memory").count() >= 1
    assert page.locator("#chat-usage").count() == 0
    page.wait_for_selector("#chat-log li.chat-turn:last-child[data-state=done]")
    final = int(page.get_attribute(answer, "data-tokens") or 0)
    assert final > early

    used = page.eval_on_selector_all(
        "#chat-log li.context-memory",
        "items => items.map(i => ({ref: i.dataset.ref, text: i.querySelector('a.context-content').textContent}))",
    )
    assert [u["ref"] for u in used] == [str(n) for n in range(1, len(used) + 1)]
    assert "I love green tea in the morning" in [u["text"] for u in used]
    # Each context memory explains its score as a search result does: a row per signal, adding up to the score.
    explained = page.eval_on_selector_all(
        "#chat-log li.chat-turn:last-child li.context-memory",
        "items => items.map(i => [Number(i.dataset.score),"
        " [...i.querySelectorAll('details.why tr.signal-row')].map(r => Number(r.dataset.contribution)),"
        " Number(i.querySelector('details.why').dataset.adjustment || 0)])",
    )
    assert len(explained) == len(used)
    for score, contributions, adjustment in explained:
        assert len(contributions) == len(SIGNAL_NAMES) and abs(sum(contributions) + adjustment - score) < 1e-6
    sections = page.eval_on_selector_all(
        "#context-budgets tr.budget-row", "rows => rows.map(r => [r.dataset.section, Number(r.dataset.budget)])"
    )
    assert dict(sections) == budgets
    phases = page.eval_on_selector_all("#chat-timings rect[data-series=ms]", "rs => rs.map(r => r.dataset.row)")
    assert {"retrieval", "llm_streaming", "context_building"} <= set(phases)
    assert_markup_stayed_text(console)

    conversation_id = page.text_content("#chat-conversation a")
    assert conversation_id
    detail = console.api("GET", f"/api/chat/conversations/{conversation_id}")
    stored = [m for m in detail["messages"] if m["role"] == "assistant"][-1]["content"]
    assert page.text_content(answer) == stored
    console.shot("chat")

    # What the user says is extracted in the background; the memory's source message leads back here.
    told = "My brother Tomas lives in Porto."
    console.chat(told)
    fact = wait_for_memory(console, "Tomas", "Porto")
    console.go(f"#/memory/{fact['id']}", "memory")
    page.wait_for_selector("#sources a.source-link")
    assert page.text_content("#sources a.source-link") == told
    page.click("#sources a.source-link")
    page.wait_for_selector("[data-view=conversation]")
    assert page.text_content("#messages li.message.target .body") == told
    assert page.locator("#messages li.message").count() == 4  # both turns of this conversation
    console.shot("source-message-in-conversation")
